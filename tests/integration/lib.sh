# Shared by the integration scripts: a throwaway PostgreSQL, a demo PKI, a
# config, the daemon, and a tiny assertion library.  Source it.
#   BUILD     build directory (default build)
#   CORPUS_DIR, VECTORS_DIR  shared test data (default ../shared/...)
set -u
ROOT=${ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
CORPUS_DIR=${CORPUS_DIR:-$ROOT/../shared/corpus}
VECTORS_DIR=${VECTORS_DIR:-$ROOT/../shared/vectors}
DECLCTL=$BUILD/declctl
DECLARED=$BUILD/declared
T_PASS=0
T_FAIL=0
PG_USER_OS=declared-pg
export DECLARED_ALLOW_LOOSE_KEYS=1

ok() { T_PASS=$((T_PASS + 1)); echo "ok - $*"; }
not_ok() { T_FAIL=$((T_FAIL + 1)); echo "not ok - $*"; }
check() { # description, command...
	d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
eq() { # description, expected, actual
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (expected '$2', got '$3')"; fi
}
finish() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

free_port() {
	python3 - 2>/dev/null <<'PY' || echo $((20000 + $$ % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

pg_bindir() {
	for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && echo "$d"; done | sort -V | tail -n 1
}

# as_pg CMD...: run a PostgreSQL server command as a non-root user
as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u "$PG_USER_OS" -- "$@"
	else
		"$@"
	fi
}

# pg_start DIR: initdb + start on a unix socket in DIR; sets PGHOST PGPORT
pg_start() {
	PGDIR=$1
	PGBIN=$(pg_bindir)
	[ -n "$PGBIN" ] || { echo "no PostgreSQL server installed"; return 1; }
	mkdir -p "$PGDIR"
	if [ "$(id -u)" = 0 ]; then
		id "$PG_USER_OS" >/dev/null 2>&1 ||
			useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_OS"
		chown "$PG_USER_OS" "$PGDIR"
		chmod 755 "$PGDIR"
	fi
	as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 \
		--no-instructions >"$PGDIR/initdb.log" 2>&1 || { cat "$PGDIR/initdb.log"; return 1; }
	PGPORT=$(free_port)
	cat >>"$PGDIR/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$PGDIR'
max_connections = 50
shared_buffers = 256MB
wal_buffers = 16MB
max_wal_size = 4GB
checkpoint_timeout = 15min
fsync = on
synchronous_commit = on
log_min_messages = warning
CONF
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/pg.log" -w -t 60 start >/dev/null ||
		{ cat "$PGDIR/pg.log"; return 1; }
	PGHOST=$PGDIR
	export PGHOST PGPORT
	psql -q -U postgres -d postgres -c "CREATE DATABASE declared" >/dev/null
}

pg_stop() {
	[ -n "${PGDIR:-}" ] && [ -f "$PGDIR/data/postmaster.pid" ] &&
		as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null 2>&1
	return 0
}

psql_q() { # SQL as the superuser, unaligned, tuples only
	psql -X -q -A -t -U postgres -d declared -c "$1"
}

# write_config FILE USER: a config for the daemon using $TDIR/pki; knobs
# (environment, default): WORKERS 2, MAX_BODY 10M, READ_TIMEOUT 10,
# MAX_CONNS 20000, WEB_ROOT, SIGNING_CRL, BATCH_MAX 256, BATCH_DELAY 2,
# DB_TIMEOUT 5, RISK_RULES (setup_all writes RISK_RULES_TEXT there),
# AUTO_RELEASE yes, LIMIT_RATE/BURST/CONNS 0,
# PUSH_CA (receivers' CA, none), PUSH_TIMEOUT 10, PUSH_RETENTION 604800,
# EXTRA_PROFILE
write_config() {
	f=$1; user=$2
	cat >"$f" <<CONF
[server]
listen = 127.0.0.1:$API_PORT
admin_listen = 127.0.0.1:$ADMIN_PORT
workers = ${WORKERS:-2}
max_body = ${MAX_BODY:-10M}
read_timeout = ${READ_TIMEOUT:-10}
max_connections = ${MAX_CONNS:-20000}
web_root = ${WEB_ROOT:-$ROOT/web}

[tls]
cert = $TDIR/pki/server.pem
key = $TDIR/pki/server.key
enterprise_ca = $TDIR/pki/enterprise-ca.pem
officer_ca = $TDIR/pki/officer-ca.pem

[signing]
cert = $TDIR/pki/acksign.pem
key = $TDIR/pki/acksign.key
trusted_ca = $TDIR/pki/signing-ca.pem
${SIGNING_CRL:+crl = $SIGNING_CRL}

[database]
conninfo = host=$PGHOST port=$PGPORT dbname=declared user=$user connect_timeout=5
connections = 2
batch_max = ${BATCH_MAX:-256}
batch_delay_ms = ${BATCH_DELAY:-2}
timeout = ${DB_TIMEOUT:-5}
sql_dir = $ROOT/sql

[customs]
country = GB
data_dir = $ROOT/data
risk_rules = ${RISK_RULES:-}
auto_release = ${AUTO_RELEASE:-yes}

[limits]
rate = ${LIMIT_RATE:-0}
burst = ${LIMIT_BURST:-0}
connections = ${LIMIT_CONNS:-0}

[push]
ca = ${PUSH_CA:-}
timeout = ${PUSH_TIMEOUT:-10}
retention = ${PUSH_RETENTION:-604800}

$(cat "$ROOT/tests/data/conf/profile-wco.conf" | sed "s#@ROOT@#$ROOT#g")
${EXTRA_PROFILE:-}
CONF
}

# setup_all: PostgreSQL, PKI, migrations, role, config, daemon.  TDIR set.
setup_all() {
	TDIR=$(mktemp -d /tmp/declared-it.XXXXXX)
	chmod 755 "$TDIR"
	trap teardown_all EXIT INT TERM
	pg_start "$TDIR/pg" || return 1
	"$DECLCTL" pki init "$TDIR/pki" >/dev/null || { echo "pki init failed"; return 1; }
	API_PORT=$(free_port)
	ADMIN_PORT=$(free_port)
	if [ -n "${RISK_RULES_TEXT:-}" ]; then
		printf '%s\n' "$RISK_RULES_TEXT" >"$TDIR/risk.rules"
		RISK_RULES=$TDIR/risk.rules
	fi
	write_config "$TDIR/migrate.conf" postgres
	"$DECLARED" --migrate -c "$TDIR/migrate.conf" >"$TDIR/migrate.log" 2>&1 ||
		{ cat "$TDIR/migrate.log"; return 1; }
	psql_q "CREATE ROLE declared LOGIN IN ROLE declared_writer" >/dev/null
	write_config "$TDIR/declared.conf" declared
	daemon_start
}

# DAEMON_WRAP: a command the daemon runs under, e.g.
#   DAEMON_WRAP="valgrind --error-exitcode=99 --leak-check=full"
daemon_start() {
	${DAEMON_WRAP:-} "$DECLARED" -c "$TDIR/declared.conf" >>"$TDIR/daemon.log" 2>&1 &
	DAEMON_PID=$!
	i=0
	until curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt ${READY_TRIES:-300} ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then
			echo "daemon did not become ready"; tail -n 30 "$TDIR/daemon.log"
			return 1
		fi
		sleep 0.1
	done
}

daemon_stop() { # graceful; returns the exit status
	[ -n "${DAEMON_PID:-}" ] || return 0
	kill -TERM "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID"
	st=$?
	DAEMON_PID=
	return $st
}

teardown_all() {
	if [ -n "${DAEMON_PID:-}" ]; then
		kill -TERM "$DAEMON_PID" 2>/dev/null
		wait "$DAEMON_PID" 2>/dev/null
	fi
	pg_stop
	if [ -n "${KEEP:-}" ]; then echo "kept $TDIR"; else rm -rf "$TDIR"; fi
}

# ecurl ARGS...: curl as the demo enterprise
ecurl() {
	curl -s --cert "$TDIR/pki/enterprise.pem" --key "$TDIR/pki/enterprise.key" \
		--cacert "$TDIR/pki/ca.pem" "$@"
}

# sign_file IN OUT: sign with the enterprise signing key
sign_file() {
	"$DECLCTL" sign --sign-cert "$TDIR/pki/enterprise-sign.pem" \
		--sign-key "$TDIR/pki/enterprise-sign.key" --out "$2" "$1"
}

# submit FILE: POST, sets HTTP_CODE and BODY_FILE
submit() {
	BODY_FILE=$TDIR/resp.$$.$(date +%s%N)
	HTTP_CODE=$(ecurl -o "$BODY_FILE" -w '%{http_code}' -H 'Content-Type: application/xml' \
		--data-binary @"$1" "https://127.0.0.1:$API_PORT/v1/declarations")
}

# xpath FILE EXPR: a value from a Response (namespace r)
rx() {
	xmllint --xpath "string($2)" "$1" 2>/dev/null | sed 's/^$//' || true
}

# metric NAME [PORT]: the value of a sample (NAME may carry labels) on
# the admin listener's /metrics; empty when absent
metric() {
	curl -s "http://127.0.0.1:${2:-$ADMIN_PORT}/metrics" |
		awk -v n="$1" '$1 == n { print $2; exit }'
}

# --- officers (test_officers.sh, test_browser.sh) ---

# ocurl ARGS...: curl as the demo officer (OFF0001)
ocurl() {
	curl -s --cert "$TDIR/pki/officer.pem" --key "$TDIR/pki/officer.key" \
		--cacert "$TDIR/pki/ca.pem" "$@"
}

# officer_cert NAME PARTY [OU]: one more officer certificate in $TDIR/pki,
# NAME.pem and NAME.key, issued by the officer CA; with OU (e.g.
# supervisor) the subject carries it (made with the openssl CLI, as
# `declctl pki issue` sets no OU)
officer_cert() {
	if [ -z "${3:-}" ]; then
		"$DECLCTL" pki issue "$TDIR/pki" --ca officer-ca --party "$2" \
			--out "$1" --cn "Officer $2" >/dev/null
		return
	fi
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' \
		>"$TDIR/pki/$1.ext"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$TDIR/pki/$1.key" -out "$TDIR/pki/$1.csr" \
		-subj "/O=declared demo customs/OU=$3/CN=Officer $2/serialNumber=$2" 2>/dev/null &&
	openssl x509 -req -in "$TDIR/pki/$1.csr" -CA "$TDIR/pki/officer-ca.pem" \
		-CAkey "$TDIR/pki/officer-ca.key" -CAcreateserial -days 30 \
		-extfile "$TDIR/pki/$1.ext" -out "$TDIR/pki/$1.pem" 2>/dev/null
}

# ncurl NAME ARGS...: curl with the client certificate $TDIR/pki/NAME.pem
ncurl() {
	n=$1; shift
	curl -s --cert "$TDIR/pki/$n.pem" --key "$TDIR/pki/$n.key" \
		--cacert "$TDIR/pki/ca.pem" "$@"
}

# jget PATH FILE: a value from a JSON file, PATH dotted ("acks.0.kind"); python3
jget() {
	python3 -c 'import json,sys
d=json.load(open(sys.argv[2]))
for k in sys.argv[1].split("."):
    d = d[int(k)] if isinstance(d, list) else d.get(k) if isinstance(d, dict) else None
    if d is None: break
print("" if d is None else (json.dumps(d) if isinstance(d, (list, dict)) else d))' "$1" "$2" 2>/dev/null
}
