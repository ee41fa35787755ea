#!/bin/sh
# make check-cluster (issue #9): on one machine, a PostgreSQL primary and a
# streaming replica (pg_basebackup -R), two daemons sharing the primary,
# HAProxy in front in TCP mode (TLS passed through: client certificates
# reach the daemons), health-checked on each daemon's admin /readyz.
#   sh tests/cluster/run.sh [BUILD]
# Environment (defaults):
#   CLUSTER_SECONDS=6     length of each throughput run (one, then two daemons)
#   CLUSTER_CONNS=32      keep-alive connections of the throughput runs
#   CLUSTER_KILL_DOCS=600   declarations of the kill run
#   CLUSTER_DATA=$BUILD/cluster-data  cache of the PKI and signed documents
#   KEEP=1                keep the temporary directory (logs)
# Phases:
#   1. kill run: parallel clients through HAProxy while daemon 1 is SIGKILLed
#      and restarted; then every 202'd LRN is stored exactly once, the
#      others resubmitted are stored once, per-party acknowledgement
#      sequences are gapless, MRNs unique, and every acknowledgement is
#      pushed to the party's callback exactly once by the two daemons
#   2. throughput through HAProxy with one daemon, then two; the replica's
#      lag sampled meanwhile (pg_stat_replication on the primary)
#   3. officer reads on the replica: a new declaration is found by an
#      officer search within the measured lag; /v1/stats shows the lag; with
#      the replica stopped, officer reads fall back to the primary
# Prints the figures and, last, "N passed, N failed".
BUILD=${1:-${BUILD:-build}}
export BUILD
. "$(dirname "$0")/../integration/lib.sh"
set -u

SECS=${CLUSTER_SECONDS:-6}
CONNS=${CLUSTER_CONNS:-32}
NKILL=${CLUSTER_KILL_DOCS:-600}
DATA=${CLUSTER_DATA:-$BUILD/cluster-data}
P1=GB000000000001
BLOCK=12000             # documents per throughput run (each LRN sent once)
NDOCS=$((2 * BLOCK))
T_START=$(date +%s)

say() { echo "cluster: $*"; }
die() { say "$*"; echo "$T_PASS passed, $((T_FAIL + 1)) failed"; exit 1; }

# ---- tools ------------------------------------------------------------------
if ! command -v haproxy >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		say "installing haproxy"
		DEBIAN_FRONTEND=noninteractive apt-get install -y haproxy >/dev/null 2>&1
	fi
	command -v haproxy >/dev/null 2>&1 ||
		die "haproxy is not installed (apt-get install haproxy)"
fi
for f in "$DECLARED" "$DECLCTL" "$BUILD/gendecl" "$BUILD/pushsink" "$BUILD/libdeclared.a"; do
	[ -e "$f" ] || die "$f is missing: run make first"
done
# the load generator and the bulk signer of make bench, built by the Makefile
SANMK=
nm "$BUILD/libdeclared.a" 2>/dev/null | grep -q __asan_init && SANMK="SANITIZE=address,undefined"
make -s -C "$ROOT" $SANMK B="${BUILD#"$ROOT"/}" "${BUILD#"$ROOT"/}/loadgen" \
	"${BUILD#"$ROOT"/}/ceiling" >/dev/null || die "cannot build loadgen and ceiling"
PGB=$(pg_bindir)
[ -n "$PGB" ] || die "no PostgreSQL server installed"

# ---- cached PKI and signed documents ------------------------------------------
mkdir -p "$DATA" || die "cannot create $DATA"
if [ ! -f "$DATA/pki/enterprise-sign.key" ] ||
	! openssl x509 -checkend 86400 -noout -in "$DATA/pki/server.pem" >/dev/null 2>&1 ||
	! openssl x509 -checkend 86400 -noout -in "$DATA/pki/enterprise-sign.pem" >/dev/null 2>&1; then
	rm -rf "$DATA/pki" "$DATA/load" "$DATA/kill"
	"$DECLCTL" pki init "$DATA/pki" >/dev/null || die "pki init failed"
fi
# docs NAME COUNT LRNPREFIX: COUNT signed 5-item documents in $DATA/NAME
docs() {
	dir=$DATA/$1
	n=$(find "$dir" -maxdepth 1 -name '*.xml' 2>/dev/null | wc -l)
	[ "$n" -ge "$2" ] && return 0
	say "generating and signing $2 documents in $dir"
	rm -rf "$dir" "$dir.gen"
	mkdir -p "$dir"
	"$BUILD/gendecl" --items 5 --count "$2" --out "$dir.gen" --lrn "$3" \
		--declarant "$P1" --seed 1 || return 1
	"$BUILD/ceiling" sign --sign-cert "$DATA/pki/enterprise-sign.pem" \
		--sign-key "$DATA/pki/enterprise-sign.key" --jobs "$(nproc)" \
		"$dir.gen" "$dir" >/dev/null || return 1
	rm -rf "$dir.gen"
}
docs load "$NDOCS" CLL || die "cannot make the load documents"
docs kill "$NKILL" CLK || die "cannot make the kill-run documents"

# ---- PostgreSQL primary and streaming replica ------------------------------------
TDIR=$(mktemp -d /tmp/declared-cluster.XXXXXX)
chmod 755 "$TDIR"
HA_PID= D1_PID= D2_PID= SINK_PID= R_DIR=
cleanup() {
	for p in $HA_PID $D1_PID $D2_PID $SINK_PID; do kill -TERM "$p" 2>/dev/null; done
	for p in $HA_PID $D1_PID $D2_PID $SINK_PID; do wait "$p" 2>/dev/null; done
	[ -n "$R_DIR" ] && [ -f "$R_DIR/data/postmaster.pid" ] &&
		as_pg "$PGB/pg_ctl" -D "$R_DIR/data" -m immediate -w stop >/dev/null 2>&1
	pg_stop
	if [ -n "${KEEP:-}" ]; then echo "kept $TDIR"; else rm -rf "$TDIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cp -a "$DATA/pki" "$TDIR/pki"

pg_start "$TDIR/pg" || die "the primary did not start"
P_DIR=$PGDIR P_PORT=$PGPORT
R_DIR=$TDIR/pgr
R_PORT=$(free_port)
mkdir -p "$R_DIR"
[ "$(id -u)" = 0 ] && chown "$PG_USER_OS" "$R_DIR"
as_pg "$PGB/pg_basebackup" -D "$R_DIR/data" -R -X stream -c fast -h "$P_DIR" -p "$P_PORT" \
	-U postgres >"$R_DIR/basebackup.log" 2>&1 || { cat "$R_DIR/basebackup.log"; die "pg_basebackup failed"; }
cat >>"$R_DIR/data/postgresql.conf" <<CONF
port = $R_PORT
unix_socket_directories = '$R_DIR'
hot_standby = on
hot_standby_feedback = on
CONF
as_pg "$PGB/pg_ctl" -D "$R_DIR/data" -l "$R_DIR/pg.log" -w -t 60 start >/dev/null ||
	{ cat "$R_DIR/pg.log"; die "the replica did not start"; }
rq() { psql -X -q -A -t -h "$R_DIR" -p "$R_PORT" -U postgres -d declared -c "$1"; }
eq "the replica is in recovery" t "$(rq 'SELECT pg_is_in_recovery()')"
eq "the primary streams to it" streaming \
	"$(psql_q "SELECT state FROM pg_stat_replication" | head -n 1)"

# ---- schema, configs, two daemons ------------------------------------------------
API_PORT=$(free_port) ADMIN_PORT=$(free_port)
write_config "$TDIR/migrate.conf" postgres
"$DECLARED" --migrate -c "$TDIR/migrate.conf" >"$TDIR/migrate.log" 2>&1 ||
	{ cat "$TDIR/migrate.log"; die "migration failed"; }
psql_q "CREATE ROLE declared LOGIN IN ROLE declared_writer" >/dev/null
REPLICA="replica_conninfo = host=$R_DIR port=$R_PORT dbname=declared user=declared connect_timeout=2"
for i in 1 2; do
	API_PORT=$(free_port) ADMIN_PORT=$(free_port)
	eval "API$i=$API_PORT ADMIN$i=$ADMIN_PORT"
	# the daemons trust the demo CA for the receiver ([push] ca)
	PUSH_CA=$TDIR/pki/ca.pem PUSH_TIMEOUT=2 AUTO_RELEASE=no write_config "$TDIR/d$i.conf" declared
	sed -i "/^conninfo = /a $REPLICA" "$TDIR/d$i.conf"
done
# dstart N: start daemon N, wait until it is ready
dstart() {
	"$DECLARED" -c "$TDIR/d$1.conf" >>"$TDIR/d$1.log" 2>&1 &
	eval "D$1_PID=$!"
	eval "ap=\$ADMIN$1"
	k=0
	until curl -sf "http://127.0.0.1:$ap/readyz" >/dev/null 2>&1; do
		k=$((k + 1))
		[ $k -gt 150 ] && { tail -n 20 "$TDIR/d$1.log"; return 1; }
		sleep 0.1
	done
}
dstop() { # N: SIGTERM, wait
	eval "p=\$D$1_PID"
	[ -n "$p" ] || return 0
	kill -TERM "$p" 2>/dev/null
	wait "$p"
	eval "D$1_PID="
}
dstart 1 || die "daemon 1 did not start"
dstart 2 || die "daemon 2 did not start"

# ---- HAProxy: TCP mode, TLS passthrough, health check on /readyz -----------------
HA_PORT=$(free_port)
cat >"$TDIR/haproxy.cfg" <<CONF
global
	maxconn 4000
defaults
	mode tcp
	timeout connect 2s
	timeout client 60s
	timeout server 60s
	retries 3
	option redispatch
frontend api
	bind 127.0.0.1:$HA_PORT
	default_backend daemons
backend daemons
	balance roundrobin
	option httpchk GET /readyz
	default-server inter 300 fall 2 rise 2 on-marked-down shutdown-sessions
	server d1 127.0.0.1:$API1 check port $ADMIN1
	server d2 127.0.0.1:$API2 check port $ADMIN2
CONF
haproxy -c -f "$TDIR/haproxy.cfg" >"$TDIR/haproxy.check" 2>&1 ||
	{ cat "$TDIR/haproxy.check"; die "bad haproxy config"; }
haproxy -db -f "$TDIR/haproxy.cfg" >"$TDIR/haproxy.log" 2>&1 &
HA_PID=$!
HA=https://127.0.0.1:$HA_PORT
k=0
until [ "$(ecurl -o /dev/null -w '%{http_code}' "$HA/v1/acks?after=0&limit=1")" = 200 ]; do
	k=$((k + 1)); [ $k -gt 50 ] && die "HAProxy does not answer"; sleep 0.1
done
ok "HAProxy passes TLS through: the enterprise certificate reaches a daemon"
eq "an officer certificate reaches a daemon through HAProxy" 200 \
	"$(ocurl -o /dev/null -w '%{http_code}' "$HA/v1/stats")"

# ---- 1. kill run --------------------------------------------------------------------
# the receiver of push delivery (tests/tools/pushsink), registered for P1
"$DECLCTL" pki issue "$TDIR/pki" --ca ca --party sink --cn localhost --kind server \
	--out sink >/dev/null || die "cannot issue the sink certificate"
SINK_PORT=$(free_port)
SINK_LOG=$TDIR/sink.log
: >"$SINK_LOG"
echo ok >"$TDIR/mode"
mkdir -p "$TDIR/sink"
"$BUILD/pushsink" --listen 127.0.0.1:$SINK_PORT --cert "$TDIR/pki/sink.pem" \
	--key "$TDIR/pki/sink.key" --ca "$TDIR/pki/ca.pem" --log "$SINK_LOG" \
	--mode-file "$TDIR/mode" --out "$TDIR/sink" 2>"$TDIR/sink.err" &
SINK_PID=$!
eq "callback registered through HAProxy" 200 "$(ecurl -o /dev/null -w '%{http_code}' \
	-H 'Content-Type: application/json' -X PUT -d "{\"url\":\"https://127.0.0.1:$SINK_PORT/hook\"}" \
	"$HA/v1/callback")"

# client W: curl with keep-alive over every 4th document from W, through
# HAProxy; one line "CODE FILE" per request (000: no answer)
client() {
	cfg=$TDIR/client$1.cfg
	: >"$cfg"
	ls "$DATA/kill" | head -n "$NKILL" | awk -v w="$1" '(NR - 1) % 4 == w' | while read -r f; do
		cat >>"$cfg" <<CFG
url = "$HA/v1/declarations"
cert = "$TDIR/pki/enterprise.pem"
key = "$TDIR/pki/enterprise.key"
cacert = "$TDIR/pki/ca.pem"
header = "Content-Type: application/xml"
data-binary = "@$DATA/kill/$f"
output = "$TDIR/out/$f"
write-out = "%{http_code} %{filename_effective}\\n"
max-time = 20
silent
next
CFG
	done
	curl -K "$cfg" >"$TDIR/client$1.log" 2>/dev/null
}
mkdir -p "$TDIR/out"
say "kill run: $NKILL declarations by 4 clients through HAProxy; daemon 1 SIGKILLed and restarted"
T0=$(date +%s.%N)
CPIDS=
for w in 0 1 2 3; do client $w & CPIDS="$CPIDS $!"; done
sleep 1.5
kill -KILL "$D1_PID"
wait "$D1_PID" 2>/dev/null
D1_PID=
KILLED_AT=$(date +%s.%N)
sleep 1.5
dstart 1 || die "daemon 1 did not restart"
for p in $CPIDS; do wait "$p"; done
T1=$(date +%s.%N)
cat "$TDIR"/client?.log >"$TDIR/kill.results"
N202=$(awk '$1 == 202' "$TDIR/kill.results" | wc -l)
NOTHER=$(awk '$1 != 202' "$TDIR/kill.results" | wc -l)
say "kill run: $N202 x 202, $NOTHER other answers or broken connections in $(awk "BEGIN { printf \"%.1f\", $T1 - $T0 }") s (SIGKILL at +$(awk "BEGIN { printf \"%.1f\", $KILLED_AT - $T0 }") s)"
awk '$1 != 202 { print $1 }' "$TDIR/kill.results" | sort | uniq -c | sed 's/^/cluster:   /'
eq "kill run: every document got an answer line" "$NKILL" "$(wc -l <"$TDIR/kill.results")"
# the LRN of each 202'd file (declarations from gendecl: CLK-NNNNNN)
lrn_of() { sed -n 's:.*<FunctionalReferenceID>\([^<]*\)<.*:\1:p' "$1" | head -n 1; }
awk '$1 == 202 { print $2 }' "$TDIR/kill.results" | while read -r o; do
	lrn_of "$DATA/kill/$(basename "$o")"
done | sort >"$TDIR/lrn202"
psql_q "SELECT lrn FROM declarations WHERE declarant = '$P1' AND lrn LIKE 'CLK-%' ORDER BY lrn" |
	LC_ALL=C sort >"$TDIR/lrndb"
LC_ALL=C sort -o "$TDIR/lrn202" "$TDIR/lrn202"
eq "kill run: every 202'd LRN is stored" 0 "$(LC_ALL=C comm -23 "$TDIR/lrn202" "$TDIR/lrndb" | wc -l)"
eq "kill run: no LRN stored twice" 0 "$(uniq -d "$TDIR/lrndb" | wc -l)"
say "kill run: $(wc -l <"$TDIR/lrndb") stored for $N202 202s (the rest: committed, answer lost)"
# resubmit every document that got no 202: each is stored once in the end
: >"$TDIR/retry.results"
awk '$1 != 202 { print $2 }' "$TDIR/kill.results" | while read -r o; do
	f=$DATA/kill/$(basename "$o")
	ecurl -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/xml' \
		--data-binary @"$f" "$HA/v1/declarations" >>"$TDIR/retry.results"
done
eq "kill run: every resubmission answered 202" 0 "$(grep -vc '^202$' "$TDIR/retry.results")"
# and two 202'd ones again: the original receipt, nothing stored
for o in $(awk '$1 == 202 { print $2 }' "$TDIR/kill.results" | head -n 2); do
	ecurl -o "$TDIR/again.xml" -w '%{http_code}\n' -H 'Content-Type: application/xml' \
		--data-binary @"$DATA/kill/$(basename "$o")" "$HA/v1/declarations" >>"$TDIR/again.results"
	check "kill run: a 202'd document sent again gets its original receipt" cmp -s "$o" "$TDIR/again.xml"
done
eq "kill run: in the end each of the $NKILL LRNs stored exactly once" "$NKILL|$NKILL" \
	"$(psql_q "SELECT count(*) || '|' || count(DISTINCT lrn) FROM declarations WHERE declarant = '$P1' AND lrn LIKE 'CLK-%'")"
eq "MRNs are unique" 0 "$(psql_q "SELECT count(mrn) - count(DISTINCT mrn) FROM declarations")"
eq "declaration ids are unique across the two daemons" 0 \
	"$(psql_q "SELECT count(*) - count(DISTINCT id) FROM declarations")"
eq "per-party acknowledgement sequences are gapless and end at parties.ack_seq" "" \
	"$(psql_q "SELECT a.party FROM acks a JOIN parties p ON p.id = a.party GROUP BY a.party, p.ack_seq
		HAVING count(*) <> max(a.seq) - min(a.seq) + 1 OR min(a.seq) <> 1 OR max(a.seq) <> p.ack_seq")"
say "instances that stored (hi-lo id blocks): $(psql_q "SELECT count(DISTINCT id >> 12) FROM declarations") id blocks"
# push: every acknowledgement delivered, exactly once, in order
LAST=$(psql_q "SELECT ack_seq FROM parties WHERE id = '$P1'")
k=0
until [ "$(psql_q "SELECT delivered_seq FROM push_state WHERE party = '$P1'")" = "$LAST" ]; do
	k=$((k + 1)); [ $k -gt 600 ] && break; sleep 0.1
done
eq "push: caught up with the last acknowledgement ($LAST)" "$LAST" \
	"$(psql_q "SELECT delivered_seq FROM push_state WHERE party = '$P1'")"
# push is at least once across a crash (push.h): a delivery in flight when
# its daemon died is delivered again by the other one, with the same
# Declared-Ack-Seq, and receivers deduplicate by it.  So: every sequence
# number delivered; after deduplication exactly once and in order; a
# repeat only right after itself (the one in flight at the SIGKILL); each
# delivery recorded once in push_attempts.
awk -v p=$P1 '$1 == p && $3 == "ok" { print $2 }' "$SINK_LOG" >"$TDIR/pushed"
eq "push: every acknowledgement delivered, exactly once after deduplication by seq" "$LAST" \
	"$(sort -n "$TDIR/pushed" | uniq | wc -l)"
eq "push: in order (a repeat only of the one just delivered)" "" \
	"$(awk '$1 != m + 1 && $1 != m { print } { m = $1 }' "$TDIR/pushed" | head -n 3)"
NDUP=$(($(wc -l <"$TDIR/pushed") - $(sort -un "$TDIR/pushed" | wc -l)))
check "push: at most one repeat (the delivery in flight at the SIGKILL): $NDUP" test "$NDUP" -le 1
eq "push: each acknowledgement recorded delivered once" 0 \
	"$(psql_q "SELECT count(*) FROM (SELECT seq FROM push_attempts WHERE party = '$P1' AND outcome = 'delivered' GROUP BY seq HAVING count(*) > 1) x")"
say "push deliveries by instance: $(psql_q "SELECT instance || '=' || count(*) FROM push_attempts WHERE outcome = 'delivered' GROUP BY instance" | tr '\n' ' ')"
ecurl -o /dev/null -X DELETE "$HA/v1/callback"
kill "$SINK_PID" 2>/dev/null; wait "$SINK_PID" 2>/dev/null; SINK_PID=

# ---- 2. throughput with one and two daemons, replica lag --------------------------
# sample_lag FILE PID: until PID ends, twice a second, the replica's lag in
# bytes of WAL and in seconds (replay_lag)
sample_lag() {
	while kill -0 "$2" 2>/dev/null; do
		psql_q "SELECT COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0) || ' ' ||
			COALESCE(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication" | head -n 1
		sleep 0.5
	done >"$1"
}
kv() { echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1; }
FIRST=0
load() { # NAME: one run through HAProxy
	"$BUILD/loadgen" --port "$HA_PORT" --cert "$TDIR/pki/enterprise.pem" \
		--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" --dir "$DATA/load" \
		--first "$FIRST" --count "$BLOCK" --conns "$CONNS" --seconds "$SECS" \
		>"$TDIR/$1.out" 2>"$TDIR/$1.err" &
	lg=$!
	sample_lag "$TDIR/$1.lag" "$lg" &
	sl=$!
	wait "$lg"; wait "$sl"
	L=$(grep '^loadgen: mode=' "$TDIR/$1.out" | tail -n 1)
	FIRST=$((FIRST + BLOCK))
	LAGB=$(awk '$1 > m { m = $1 } END { printf "%.0f", m / 1024 }' "$TDIR/$1.lag")
	LAGS=$(awk '$2 > m { m = $2 } END { printf "%.3f", m }' "$TDIR/$1.lag")
	LAGAVG=$(awk '{ s += $2; n++ } END { printf "%.3f", n ? s / n : 0 }' "$TDIR/$1.lag")
	say "$1: $(kv decl_per_s "$L") decl/s ($(kv s202 "$L") x 202, other=$(kv other "$L") errors=$(kv errors "$L")) p50=$(kv p50_ms "$L") ms p99=$(kv p99_ms "$L") ms; replica lag max ${LAGB} kB of WAL, replay_lag max ${LAGS} s, mean ${LAGAVG} s"
}
psql_q "CHECKPOINT" >/dev/null
dstop 2
sleep 1.5   # HAProxy marks d2 down (inter 300 fall 2)
load one-daemon
DPS1=$(kv decl_per_s "$L"); OK1=$(kv s202 "$L")
LAGS1=$LAGS
dstart 2 || die "daemon 2 did not restart"
sleep 1.5   # and up again (rise 2)
psql_q "CHECKPOINT" >/dev/null
load two-daemons
DPS2=$(kv decl_per_s "$L"); OK2=$(kv s202 "$L")
LAGS2=$LAGS LAGB2=$LAGB
check "one daemon: throughput measured" test "${OK1:-0}" -gt 0
check "two daemons: throughput measured" test "${OK2:-0}" -gt 0
eq "throughput runs: every 202 is a stored row" "$((OK1 + OK2))" \
	"$(psql_q "SELECT count(*) FROM declarations WHERE lrn LIKE 'CLL-%'")"
MAXLAG=$(awk "BEGIN { m = $LAGS1 > $LAGS2 ? $LAGS1 : $LAGS2; printf \"%.3f\", m }")

# ---- 3. officer reads on the replica ---------------------------------------------------
R_CONNS=$(rq "SELECT count(*) FROM pg_stat_activity WHERE usename = 'declared'")
check "the daemons hold connections to the replica ($R_CONNS)" test "${R_CONNS:-0}" -gt 0
"$BUILD/gendecl" --items 1 --lrn CLUSTER-NEW-1 --declarant "$P1" >"$TDIR/new.xml"
sign_file "$TDIR/new.xml" "$TDIR/new.s.xml"
# a steady load keeps the replica replaying while we look
"$BUILD/loadgen" --port "$HA_PORT" --cert "$TDIR/pki/enterprise.pem" \
	--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" --dir "$DATA/load" \
	--first "$FIRST" --count 2000 --conns 8 --rate 300 --seconds 5 >/dev/null 2>&1 &
BG=$!
sleep 1
API_PORT=$API1
submit "$TDIR/new.s.xml"
TS=$(date +%s.%N)
eq "new declaration through daemon 1 -> 202" 202 "$HTTP_CODE"
found=
k=0
while [ $k -lt 100 ]; do
	ocurl -o "$TDIR/search.json" "https://127.0.0.1:$API2/v1/declarations?lrn=CLUSTER-NEW-1"
	if grep -q CLUSTER-NEW-1 "$TDIR/search.json"; then found=1; break; fi
	sleep 0.02
	k=$((k + 1))
done
TF=$(date +%s.%N)
SEEN=$(awk "BEGIN { printf \"%.3f\", $TF - $TS }")
wait "$BG"
check "officer search on daemon 2 (replica) finds the new declaration" test -n "$found"
say "officer search saw it after $SEEN s (replica replay_lag max under load: $MAXLAG s)"
check "... within the measured lag (+ 0.5 s of polling and HTTP)" \
	awk "BEGIN { exit !($SEEN <= $MAXLAG + 0.5) }"
check "daemon 2 logged that officer reads go to the replica" \
	grep -q 'officer reads on the replica' "$TDIR/d2.log"
eq "the search ran on the replica (its last query there)" 1 \
	"$(rq "SELECT count(*) FROM pg_stat_activity WHERE usename = 'declared' AND query LIKE '%lrn%' AND query LIKE '%declarations%'")"
ocurl -o "$TDIR/stats.json" "https://127.0.0.1:$API2/v1/stats"
RLAG=$(jget replica.lag_s "$TDIR/stats.json")
check "/v1/stats shows the replica lag ($RLAG s)" test -n "$RLAG"
# replica down: officer reads fall back to the primary
as_pg "$PGB/pg_ctl" -D "$R_DIR/data" -m fast -w stop >/dev/null 2>&1
sleep 0.5
eq "replica stopped: officer search still answers (primary)" 200 \
	"$(ocurl -o "$TDIR/search2.json" -w '%{http_code}' "https://127.0.0.1:$API2/v1/declarations?lrn=CLUSTER-NEW-1")"
check "... and finds the declaration" grep -q CLUSTER-NEW-1 "$TDIR/search2.json"
check "... and the fallback is logged" grep -q 'replica.*primary' "$TDIR/d2.log"

# ---- figures ---------------------------------------------------------------------------
for i in 1 2; do
	check "daemon $i alive at the end" kill -0 "$(eval echo "\$D${i}_PID")"
done
cat <<EOF
cluster: figures ($(nproc) cores, $CONNS connections, ${SECS} s per run, 5-item declarations, through HAProxy)
cluster:   one daemon:  ${DPS1:-?} decl/s, replica replay_lag max ${LAGS1} s
cluster:   two daemons: ${DPS2:-?} decl/s, replica replay_lag max ${LAGS2} s (${LAGB2} kB of WAL behind at most)
cluster:   new declaration visible to an officer search on the replica after ${SEEN} s
cluster:   run time $(($(date +%s) - T_START)) s
EOF
finish
