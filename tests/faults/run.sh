#!/usr/bin/env bash
# make check-faults: the reliability and security suite (issue #8).
#   bash tests/faults/run.sh [BUILD]
# One throwaway PostgreSQL, a demo PKI (plus expired, revoked and foreign
# client certificates), the real daemon reaching the database through a
# relay that can be cut, and four phases:
#   crash.sh    SIGKILL of the daemon at random moments under load
#   dbfault.sh  PostgreSQL stopped, frozen, cut off and partitioned under load
#   hostile.sh  vectors, parser attacks, malformed HTTP, slow clients,
#               half-open handshakes, bad certificates, under legitimate load
#   fuzz        a short libFuzzer run of every target (make fuzz-build first)
# Environment (defaults): CRASH_KILLS=20 CRASH_RATE=200 DB_RATE=200
#   LEGIT_RATE=150 HALFOPEN=3000 SLOW=400 FUZZ_SECONDS=20 FUZZ_DIR=build/fuzz
#   PHASES="crash dbfault hostile fuzz"  KEEP=1 keeps the directory.
# Prints "suite: N passed, N failed" and, last,
#   faults: injected=N acknowledged=N lost=N duplicated=N attacks=N crashes=N
BUILD=${1:-${BUILD:-build}}
export BUILD
. "$(dirname "$0")/../integration/lib.sh"
. "$ROOT/tests/faults/common.sh"
set -u

CRASH_KILLS=${CRASH_KILLS:-20}
CRASH_RATE=${CRASH_RATE:-200}
DB_RATE=${DB_RATE:-200}
LEGIT_RATE=${LEGIT_RATE:-150}
HALFOPEN=${HALFOPEN:-3000}
SLOW=${SLOW:-400}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
FUZZ_DIR=${FUZZ_DIR:-$ROOT/build/fuzz}
PHASES=${PHASES:-crash dbfault hostile fuzz}
DECLARANT=GB000000000001
# the daemon's timeouts in this suite: short, so that slow clients and a
# frozen database show their effect within seconds
READ_TIMEOUT=5
DB_TIMEOUT=3
export READ_TIMEOUT DB_TIMEOUT
T_START=$(date +%s)

say() { echo "faults: $*"; }
for f in "$DECLARED" "$DECLCTL" "$BUILD/gendecl" "$BUILD/faultload" \
	"$BUILD/faultrelay" "$BUILD/faultattack" "$BUILD/libdeclared.a"; do
	[ -e "$f" ] || { say "$f is missing: run make first"; echo "suite: 0 passed, 1 failed"; exit 1; }
done
# slowhttptest and sslscan come from Debian; installed here when root
if ! command -v slowhttptest >/dev/null && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		slowhttptest >/dev/null 2>&1 || true
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# ---- setup ---------------------------------------------------------------------
TDIR=$(mktemp -d /tmp/declared-faults.XXXXXX)
chmod 755 "$TDIR"
FS=$TDIR/state
DOCS=$TDIR/docs
mkdir -p "$FS" "$DOCS"
: >"$FS/counters"
cleanup() {
	[ -n "${LOAD_PID:-}" ] && kill "$LOAD_PID" 2>/dev/null
	[ -n "${RELAY_PID:-}" ] && kill "$RELAY_PID" 2>/dev/null
	if [ -n "${PG_FROZEN:-}" ] && [ -n "${PGDIR:-}" ]; then pg_thaw; fi
	teardown_all >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM
pg_start "$TDIR/pg" || { say "PostgreSQL did not start"; exit 1; }
"$DECLCTL" pki init "$TDIR/pki" >/dev/null || { say "pki init failed"; exit 1; }
P=$TDIR/pki
# client certificates that must be refused: expired, revoked, foreign CA
"$DECLCTL" pki issue "$P" --ca enterprise-ca --party GB000000000002 --out expired \
	--expired >/dev/null &&
	"$DECLCTL" pki issue "$P" --ca enterprise-ca --party GB000000000003 --out revoked >/dev/null &&
	"$DECLCTL" pki revoke "$P" --ca enterprise-ca --cert "$P/revoked.pem" >/dev/null &&
	"$DECLCTL" pki crl "$P" --ca officer-ca >/dev/null ||
	{ say "cannot make the bad certificates"; exit 1; }
cat "$P"/enterprise-ca.crl.pem "$P"/officer-ca.crl.pem >"$P/clients.crl"
mkdir -p "$TDIR/foreign"
"$DECLCTL" pki init "$TDIR/foreign" >/dev/null || exit 1

API_PORT=$(free_port)
ADMIN_PORT=$(free_port)
RELAY_PORT=$(free_port)
write_config "$TDIR/migrate.conf" postgres
"$DECLARED" --migrate -c "$TDIR/migrate.conf" >"$TDIR/migrate.log" 2>&1 ||
	{ cat "$TDIR/migrate.log"; exit 1; }
psql_q "CREATE ROLE declared LOGIN IN ROLE declared_writer" >/dev/null
write_config "$TDIR/declared.conf" declared
# the CRL of client certificates, and the database through the relay
sed -i -e "s#^\[tls\]\$#[tls]\ncrl = $P/clients.crl#" \
	-e "s#host=$PGHOST port=$PGPORT#host=127.0.0.1 port=$RELAY_PORT#" "$TDIR/declared.conf"
"$BUILD/faultrelay" --listen "$RELAY_PORT" --to-unix "$PGDIR/.s.PGSQL.$PGPORT" \
	2>>"$FS/relay.log" &
RELAY_PID=$!
sleep 0.2
daemon_start || { say "the daemon did not start"; exit 1; }

pg_pids() { # the postmaster and its children
	pm=$(head -n 1 "$PGDIR/data/postmaster.pid" 2>/dev/null)
	[ -n "$pm" ] && echo "$pm" && pgrep -P "$pm"
}
pg_freeze() { PG_FROZEN=1; for p in $(pg_pids); do kill -STOP "$p" 2>/dev/null; done; }
pg_thaw() { for p in $(pg_pids); do kill -CONT "$p" 2>/dev/null; done; PG_FROZEN=; }

# ---- documents: one signed set per use -----------------------------------------
CEILING=$BUILD/ceiling
# the benchmark's signer (ceiling sign), built by the Makefile; a sanitizer
# build's library needs the sanitizers in the signer too
SANMK=
nm "$BUILD/libdeclared.a" 2>/dev/null | grep -q __asan_init && SANMK="SANITIZE=address,undefined"
make -s -C "$ROOT" $SANMK B="${BUILD#"$ROOT"/}" "${BUILD#"$ROOT"/}/ceiling" >/dev/null ||
	{ say "cannot build the signer"; exit 1; }
docset() { # PREFIX COUNT: $DOCS/PREFIX/decl-NNNNNN.xml, LRN PREFIX-NNNNNN, signed
	rm -rf "$TDIR/gen"
	mkdir -p "$DOCS/$1"
	"$BUILD/gendecl" --items 1 --count "$2" --out "$TDIR/gen" --lrn "$1" \
		--declarant "$DECLARANT" --seed 1 >/dev/null &&
		"$CEILING" sign --sign-cert "$P/enterprise-sign.pem" --sign-key "$P/enterprise-sign.key" \
			--jobs 2 "$TDIR/gen" "$DOCS/$1" >/dev/null || { say "cannot make set $1"; exit 1; }
	rm -rf "$TDIR/gen"
}
t=$(date +%s)
docset CR $((CRASH_RATE * (CRASH_KILLS * 3 / 2 + 10)))
docset DB $((DB_RATE * 40))
docset LG 2000
say "documents signed in $(($(date +%s) - t)) s"

# ---- phases ----------------------------------------------------------------
for ph in $PHASES; do
	case $ph in
	crash|dbfault|hostile)
		echo "== $ph"
		. "$ROOT/tests/faults/$ph.sh"
		t=$(date +%s)
		"phase_$ph"
		crash_check "after phase $ph"
		say "phase $ph took $(($(date +%s) - t)) s"
		;;
	fuzz)
		echo "== fuzz"
		. "$ROOT/tests/faults/fuzz.sh"
		phase_fuzz
		;;
	*) say "unknown phase $ph"; not_ok "phase $ph" ;;
	esac
done

# ---- the end: a clean stop, no sanitizer report ------------------------------
daemon_stop
eq "SIGTERM after the suite: exit status 0" 0 "$?"
n=$(sanitizer_reports)
[ "$n" -gt 0 ] && count crashes "$n"
eq "no sanitizer report in the daemon's log" 0 "$n"
[ -f "$FS/figures" ] && { echo; cat "$FS/figures"; }
say "took $(($(date +%s) - T_START)) s"
echo "suite: $T_PASS passed, $T_FAIL failed"
echo "faults: injected=$(total injected) acknowledged=$(total acknowledged)" \
	"lost=$(total lost) duplicated=$(total duplicated) attacks=$(total attacks)" \
	"crashes=$(total crashes)"
[ "$T_FAIL" -eq 0 ] && [ "$(total lost)" -eq 0 ] && [ "$(total duplicated)" -eq 0 ] &&
	[ "$(total crashes)" -eq 0 ]
