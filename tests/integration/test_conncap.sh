#!/bin/sh
# max_connections: at the cap the daemon stops accepting (it does not spin
# or fail), and accepts again as soon as connections close.
. "$(dirname "$0")/lib.sh"
MAX_CONNS=3
# the idle connections below send no request: keep the daemon's request
# deadline (read_timeout from the accept) far beyond the checks at the cap
READ_TIMEOUT=60
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
"$BUILD/gendecl" --items 1 --lrn CAP-1 >"$TDIR/d.xml"
sign_file "$TDIR/d.xml" "$TDIR/d.s"
hold() { # an idle TLS connection kept open for a while
	(sleep 30 | openssl s_client -quiet -connect "127.0.0.1:$API_PORT" \
		-cert "$TDIR/pki/enterprise.pem" -key "$TDIR/pki/enterprise.key" \
		-CAfile "$TDIR/pki/ca.pem") >/dev/null 2>&1 &
	echo $!
}
P1=$(hold); P2=$(hold); P3=$(hold)
i=0
until [ "$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | sed -n 's/^declared_connections_open //p')" = 3 ] || [ $i -gt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
eq "three idle connections are open" 3 \
	"$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | sed -n 's/^declared_connections_open //p')"
C=$(ecurl --max-time 2 -o /dev/null -w '%{http_code}' --data-binary @"$TDIR/d.s" \
	"https://127.0.0.1:$API_PORT/v1/declarations")
eq "at the cap a new connection is not served" 000 "$C"
eq "the pause is counted" 1 \
	"$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | sed -n 's/^declared_accept_paused_total //p')"
check "the admin listener still answers at the cap" curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz" -o /dev/null
pkill -P "$P1" 2>/dev/null; pkill -P "$P2" 2>/dev/null; kill "$P1" "$P2" 2>/dev/null
i=0 # until the daemon has counted both out (and the refused client's
# abandoned connection, accepted once below the cap), at most 10 s
until [ "$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | sed -n 's/^declared_connections_open //p')" = 1 ] || [ $i -gt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
C=$(ecurl --max-time 10 -o /dev/null -w '%{http_code}' --data-binary @"$TDIR/d.s" \
	"https://127.0.0.1:$API_PORT/v1/declarations")
eq "below the cap again: served" 202 "$C"
pkill -P "$P3" 2>/dev/null; kill "$P3" 2>/dev/null
finish
