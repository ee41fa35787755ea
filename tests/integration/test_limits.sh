#!/bin/sh
# Per-party limits ([limits] rate, burst, connections): 429 with
# Retry-After, per enterprise party, officers not limited, changed by SIGHUP.
. "$(dirname "$0")/lib.sh"
# rate 1/s: a token comes back only after 1 s, so the burst and the 429
# after it (a new curl, a new TLS connection) have 1 s of slack, not 0.2 s
LIMIT_RATE=1 LIMIT_BURST=5 LIMIT_CONNS=0
export LIMIT_RATE LIMIT_BURST LIMIT_CONNS
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
P=$TDIR/pki
U=https://127.0.0.1:$API_PORT/v1/nothing
"$DECLCTL" pki issue "$P" --ca enterprise-ca --party GB000000000009 --out ent2 >/dev/null ||
	{ echo "cannot issue a second enterprise certificate"; }

# burst N CERT KEY: N requests on one keep-alive connection; prints the codes
burst() {
	n=$1; set -- "$2" "$3"
	urls=""
	i=0
	while [ "$i" -lt "$n" ]; do urls="$urls $U"; i=$((i + 1)); done
	# shellcheck disable=SC2086
	curl -s -o /dev/null -w '%{http_code}\n' --cert "$1" --key "$2" --cacert "$P/ca.pem" $urls
}

# 1. the rate: a burst of 5, then 429 with Retry-After
burst 12 "$P/enterprise.pem" "$P/enterprise.key" >"$TDIR/codes1"
eq "rate 1/s, burst 5: 5 of 12 at once pass" 5 "$(grep -c '^404$' "$TDIR/codes1")"
eq "rate 1/s, burst 5: 7 of 12 answered 429" 7 "$(grep -c '^429$' "$TDIR/codes1")"
H=$(ecurl -D - -o "$TDIR/body429" "$U" | tr -d '\r')
check "429 has Retry-After >= 1" sh -c "echo '$H' | grep -Eiq '^Retry-After: [1-9]'"
eq "429 names RATE_LIMITED" RATE_LIMITED "$(sed -n 's/.*"error":"\([A-Z_]*\)".*/\1/p' "$TDIR/body429")"
burst 5 "$P/ent2.pem" "$P/ent2.key" >"$TDIR/codes2"
eq "another party is not limited by the first one's rate" 5 "$(grep -c '^404$' "$TDIR/codes2")"
burst 12 "$P/officer.pem" "$P/officer.key" >"$TDIR/codes3"
eq "officers are not rate limited" 0 "$(grep -c '^429$' "$TDIR/codes3")"
sleep 5.3
burst 6 "$P/enterprise.pem" "$P/enterprise.key" >"$TDIR/codes4"
n=$(grep -c '^404$' "$TDIR/codes4")
check "tokens come back at the rate: $n of 6 pass 5.3 s later (5..6)" sh -c "[ $n -ge 5 ] && [ $n -le 6 ]"

# 2. the connection cap, changed by SIGHUP: 2 connections per party
LIMIT_RATE=0 LIMIT_CONNS=2
write_config "$TDIR/declared.conf" declared
R0=$(grep -c 'msg="reloaded"' "$TDIR/daemon.log")
kill -HUP "$DAEMON_PID"
i=0 # the reload is asynchronous: until it is logged, at most 10 s
until [ "$(grep -c 'msg="reloaded"' "$TDIR/daemon.log")" -gt "$R0" ] || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
hold() { # CERT KEY SECONDS: one connection, one request, then held open
	( printf 'GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n'; sleep "$3" ) |
		openssl s_client -quiet -connect "127.0.0.1:$API_PORT" -cert "$1" -key "$2" \
			-CAfile "$P/ca.pem" 2>/dev/null
}
hold "$P/enterprise.pem" "$P/enterprise.key" 6 >"$TDIR/h1" &
H1=$!
hold "$P/enterprise.pem" "$P/enterprise.key" 6 >"$TDIR/h2" &
H2=$!
i=0 # a connection is counted with its request: until both are answered, at most 10 s
until { grep -q '^HTTP/' "$TDIR/h1" && grep -q '^HTTP/' "$TDIR/h2"; } || [ $i -ge 100 ]; do
	sleep 0.1; i=$((i + 1))
done
H=$(ecurl -D - -o "$TDIR/body429c" "$U" | tr -d '\r')
check "a third connection of the party -> 429" sh -c "echo '$H' | grep -q '^HTTP/1.1 429'"
check "... with Connection: close" sh -c "echo '$H' | grep -qi '^Connection: close'"
eq "... naming TOO_MANY_CONNECTIONS" TOO_MANY_CONNECTIONS \
	"$(sed -n 's/.*"error":"\([A-Z_]*\)".*/\1/p' "$TDIR/body429c")"
eq "another party still connects" 404 "$(curl -s -o /dev/null -w '%{http_code}' \
	--cert "$P/ent2.pem" --key "$P/ent2.key" --cacert "$P/ca.pem" "$U")"
wait "$H1" "$H2"
eq "the two held connections were served" "HTTP/1.1 404 Not Found|HTTP/1.1 404 Not Found" \
	"$(head -n 1 "$TDIR/h1" | tr -d '\r')|$(head -n 1 "$TDIR/h2" | tr -d '\r')"
i=0 # the daemon counts them out when it sees them closed: at most 10 s
while C=$(ecurl -o /dev/null -w '%{http_code}' "$U"); [ "$C" != 404 ] && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
eq "once they closed, the party connects again" 404 "$C"
check "the daemon logs the refusals" grep -q 'msg="limited" status=429' "$TDIR/daemon.log"
daemon_stop
eq "SIGTERM: exit status 0" 0 "$?"
finish
