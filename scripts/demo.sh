#!/bin/sh
# make demo: a local PostgreSQL and demo PKI under ./var, the daemon started
# in the background, sample declarations signed and submitted, receipts shown.
# `make demo-stop` stops both.
set -u
B=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/$B
. "$ROOT/tests/integration/lib.sh"
trap - EXIT INT TERM
TDIR=$ROOT/var
mkdir -p "$TDIR"
chmod 755 "$TDIR"
if [ -f "$TDIR/declared.pid" ] && kill -0 "$(cat "$TDIR/declared.pid")" 2>/dev/null; then
	echo "demo: already running (make demo-stop first)"; exit 1
fi
if [ ! -f "$TDIR/pg/data/PG_VERSION" ]; then
	echo "demo: creating a PostgreSQL cluster in var/pg"
	pg_start "$TDIR/pg" || exit 1
	echo "$PGPORT" >"$TDIR/pg/port"
else
	PGDIR=$TDIR/pg; PGBIN=$(pg_bindir); PGHOST=$PGDIR; PGPORT=$(cat "$PGDIR/port")
	export PGHOST PGPORT
	[ -f "$PGDIR/data/postmaster.pid" ] ||
		as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/pg.log" -w start >/dev/null
fi
[ -f "$TDIR/pki/ca.pem" ] || { echo "demo: making demo certificates in var/pki";
	"$DECLCTL" pki init "$TDIR/pki" >/dev/null || exit 1; }
API_PORT=8443
ADMIN_PORT=8080
write_config "$TDIR/migrate.conf" postgres
"$DECLARED" --migrate -c "$TDIR/migrate.conf" 2>&1 | tail -n 1
psql_q "DO \$\$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname='declared')
	THEN CREATE ROLE declared LOGIN IN ROLE declared_writer; END IF; END \$\$" >/dev/null
write_config "$TDIR/declared.conf" declared
: >"$TDIR/daemon.log"
daemon_start || exit 1
echo "$DAEMON_PID" >"$TDIR/declared.pid"
echo "demo: declared is running (pid $DAEMON_PID) on https://127.0.0.1:$API_PORT, admin on http://127.0.0.1:$ADMIN_PORT"
mkdir -p "$TDIR/samples" "$TDIR/receipts"
stamp=$(date +%s)
for n in 1 5 20; do
	"$BUILD/gendecl" --items $n --lrn "DEMO-$stamp-$n" >"$TDIR/samples/demo-$n-items.xml"
done
echo "demo: submitting 3 signed declarations with declctl"
"$DECLCTL" submit --url "https://127.0.0.1:$API_PORT" --cert "$TDIR/pki/enterprise.pem" \
	--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" --sign \
	--sign-cert "$TDIR/pki/enterprise-sign.pem" --sign-key "$TDIR/pki/enterprise-sign.key" \
	--out "$TDIR/receipts" "$TDIR"/samples/demo-*-items.xml
echo
echo "demo: the signed receipt of the 1-item declaration:"
cat "$TDIR/receipts/demo-1-items.receipt.xml" 2>/dev/null || ls "$TDIR/receipts"
echo
echo "demo: it verifies with xmlsec1:"
xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 \
	"$TDIR/receipts/demo-1-items.receipt.xml" 2>&1 | head -n 1
echo
echo "demo: the enterprise's acknowledgement feed (receipts, then automatic releases), verified:"
"$DECLCTL" acks --url "https://127.0.0.1:$API_PORT" --cert "$TDIR/pki/enterprise.pem" \
	--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" \
	--trusted-ca "$TDIR/pki/ca.pem" --out "$TDIR/acks" 2>&1 | tail -n 8
for f in "$TDIR"/acks/ack-*.xml; do
	printf '  %s  FunctionCode %s  %s\n' "$(basename "$f")" \
		"$(xmllint --xpath "string(/*/*[local-name()='FunctionCode'])" "$f")" \
		"$(xmllint --xpath "string(//*[local-name()='Status']/*[local-name()='NameCode'])" "$f")"
done
echo
echo "demo: in PostgreSQL:"
psql -X -U postgres -d declared -c "SELECT id, lrn, declarant, mrn, status, item_count FROM declarations ORDER BY received_at DESC LIMIT 5"
echo "demo: try it yourself:"
echo "  curl --cert var/pki/enterprise.pem --key var/pki/enterprise.key --cacert var/pki/ca.pem \\"
echo "       --data-binary @FILE https://127.0.0.1:$API_PORT/v1/declarations"
echo "  curl http://127.0.0.1:$ADMIN_PORT/metrics"
echo "  make demo-stop"
