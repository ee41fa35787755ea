#!/bin/sh
# Push delivery: the daemon POSTs each acknowledgement to the party's
# HTTPS callback with its client certificate, in order; retries timeouts
# and 5xx with backoff without skipping; skips 4xx and expired ones; and
# with two instances on one database delivers every acknowledgement once.
. "$(dirname "$0")/lib.sh"
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
mkdir -p "$D" "$TDIR/sink"
BASE=https://127.0.0.1:$API_PORT
P1=GB000000000001
SINK_LOG=$TDIR/sink.log
MODE=$TDIR/mode
: >"$SINK_LOG"
echo ok >"$MODE"

# the daemon trusts the demo CA for receivers ([push] ca); short timeouts
# for the test
daemon_stop
PUSH_CA=$TDIR/pki/ca.pem PUSH_TIMEOUT=2 write_config "$TDIR/declared.conf" declared
daemon_start || { echo "restart failed"; echo "0 passed, 1 failed"; exit 1; }

# the receiver: a server certificate from the demo CA, client certificates
# checked against the CA of the daemon's certificate
"$DECLCTL" pki issue "$TDIR/pki" --ca ca --party sink --cn localhost --kind server \
	--out sink >/dev/null || { echo "cannot issue the sink certificate"; exit 1; }
SINK_PORT=$(free_port)
"$BUILD/pushsink" --listen 127.0.0.1:$SINK_PORT --cert "$TDIR/pki/sink.pem" \
	--key "$TDIR/pki/sink.key" --ca "$TDIR/pki/ca.pem" --log "$SINK_LOG" \
	--mode-file "$MODE" --out "$TDIR/sink" 2>"$TDIR/sink.err" &
SINK_PID=$!
HOOK=https://127.0.0.1:$SINK_PORT/hook
cleanup_push() {
	kill "$SINK_PID" 2>/dev/null
	[ -n "${D2_PID:-}" ] && kill "$D2_PID" 2>/dev/null
	teardown_all
}
trap cleanup_push EXIT INT TERM

seq_of() { psql_q "SELECT ack_seq FROM parties WHERE id = '$1'"; }
delivered_of() { psql_q "SELECT delivered_seq FROM push_state WHERE party = '$1'"; }
# caught_up PARTY [SECONDS]: push_state reached the party's last ack
caught_up() {
	n=0
	while [ $n -lt $((${2:-20} * 10)) ]; do
		[ "$(delivered_of "$1")" = "$(seq_of "$1")" ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}
# wait_until SECONDS COMMAND...: COMMAND every 0.1 s until it succeeds, for
# up to SECONDS; fails when it never did
wait_until() {
	wu_n=$(($1 * 10))
	shift
	until "$@"; do
		wu_n=$((wu_n - 1))
		[ $wu_n -gt 0 ] || return 1
		sleep 0.1
	done
}
# metric_is NAME OP VALUE / sql_is SQL OP VALUE: the value compares so ([ ])
metric_is() { mv=$(metric "$1"); [ "${mv:-x}" "$2" "$3" ] 2>/dev/null; }
sql_is() { sv=$(psql_q "$1"); [ "${sv:-x}" "$2" "$3" ] 2>/dev/null; }
n_decl=0
# submit_n N [CERT_PREFIX SIGN_PREFIX PARTY URL]: N new declarations
submit_n() {
	k=0
	while [ $k -lt "$1" ]; do
		k=$((k + 1))
		n_decl=$((n_decl + 1))
		f=$D/p.$n_decl
		"$BUILD/gendecl" --items 1 --lrn "PUSH-$n_decl" --declarant "${4:-$P1}" >"$f.xml"
		"$DECLCTL" sign --sign-cert "$TDIR/pki/${3:-enterprise-sign}.pem" \
			--sign-key "$TDIR/pki/${3:-enterprise-sign}.key" --out "$f.s.xml" "$f.xml"
		c=$(curl -s --cert "$TDIR/pki/${2:-enterprise}.pem" --key "$TDIR/pki/${2:-enterprise}.key" \
			--cacert "$TDIR/pki/ca.pem" -o /dev/null -w '%{http_code}' \
			-H 'Content-Type: application/xml' --data-binary @"$f.s.xml" "${5:-$BASE}/v1/declarations")
		[ "$c" = 202 ] || echo "submit PUSH-$n_decl -> $c"
	done
}
# lines of the sink log for PARTY with seq > FROM: "SEQ MODE"
sink_lines() { awk -v p="$1" -v f="$2" '$1 == p && $2 > f { print $2, $3 }' "$SINK_LOG"; }
# sink_saw PARTY FROM MODE: the sink answered one of them so
sink_saw() { sink_lines "$1" "$2" | grep -q " $3\$"; }
# failed_attempt PARTY SEQ PATTERN: a failed attempt with an error matching
failed_attempt() {
	psql -X -A -t -U postgres -d declared -c "SELECT error FROM push_attempts WHERE party = '$1' AND seq = $2 AND outcome = 'failed'" |
		grep -q "$3"
}

# 1. registration
cb() { ecurl -o "$TDIR/cb.json" -w '%{http_code}' -H 'Content-Type: application/json' "$@" "$BASE/v1/callback"; }
eq "no callback yet -> 404" 404 "$(cb)"
eq "http:// is refused" 400 "$(cb -X PUT -d '{"url":"http://127.0.0.1/x"}')"
eq "not JSON is refused" 400 "$(cb -X PUT -d 'https://127.0.0.1/x')"
eq "extra keys are refused" 400 "$(cb -X PUT -d "{\"url\":\"$HOOK\",\"x\":1}")"
eq "a URL with spaces is refused" 400 "$(cb -X PUT -d '{"url":"https://a b/"}')"
eq "officers cannot register" 403 "$(curl -s --cert "$TDIR/pki/officer.pem" --key "$TDIR/pki/officer.key" \
	--cacert "$TDIR/pki/ca.pem" -o /dev/null -w '%{http_code}' -X PUT -d "{\"url\":\"$HOOK\"}" "$BASE/v1/callback")"
eq "PUT callback -> 200" 200 "$(cb -X PUT -d "{\"url\":\"$HOOK\"}")"
eq "GET callback shows it" "$HOOK" "$(cb >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["url"])' "$TDIR/cb.json")"
eq "stored in parties.callback_url" "$HOOK" "$(psql_q "SELECT callback_url FROM parties WHERE id = '$P1'")"

# 2. all well: delivered in order, each once, signed, over mutual TLS
submit_n 5
check "phase ok: caught up" caught_up $P1
LAST=$(seq_of $P1)
eq "phase ok: every acknowledgement delivered once, in order" "$(seq 1 "$LAST" | sed 's/$/ ok/' | tr '\n' ' ')" \
	"$(sink_lines $P1 0 | tr '\n' ' ')"
eq "the receiver saw the daemon's client certificate" localhost "$(awk 'NR == 1 { print $4 }' "$SINK_LOG")"
bad=0
for s in $(seq 1 "$LAST"); do
	[ "$(sha256sum <"$TDIR/sink/$P1-$s.xml" | cut -d' ' -f1)" = \
		"$(psql_q "SELECT encode(sha256(body), 'hex') FROM acks WHERE party = '$P1' AND seq = $s")" ] &&
	xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 \
		"$TDIR/sink/$P1-$s.xml" >/dev/null 2>&1 || bad=$((bad + 1))
done
eq "every pushed body is the stored, signed acknowledgement" 0 "$bad"
eq "metrics: declared_push_delivered_total = $LAST" "$LAST" "$(metric declared_push_delivered_total)"
# the daemon frees the slot once it has the answer to the commit that
# caught_up saw: up to 10 s
wait_until 10 metric_is declared_push_leases = 0
eq "metrics: no lease held once caught up" 0 "$(metric declared_push_leases)"
eq "metrics: a party with a callback: no notification skipped" 0 "$(metric declared_push_wakes_skipped_total)"

# 3. 500: the same acknowledgement again, with growing gaps, none skipped
echo 500 >"$MODE"
FROM=$(seq_of $P1)
submit_n 2
# tried, then again 1 s and 2 s later (~3.4 s): until the third failure is
# recorded, up to 20 s; the fourth would come 4 s after it
wait_until 20 sql_is "SELECT count(*) FROM push_attempts WHERE party = '$P1' AND seq = $((FROM + 1)) AND outcome = 'failed'" -ge 3
eq "phase 500: only the first pending acknowledgement was tried" "$((FROM + 1))" \
	"$(sink_lines $P1 "$FROM" | cut -d' ' -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
N500=$(sink_lines $P1 "$FROM" | grep -c ' 500$')
check "phase 500: retried ($N500 attempts when the third failure was recorded)" sh -c "[ $N500 -ge 3 ] && [ $N500 -le 4 ]"
GAPS=$(awk -v p=$P1 -v f="$FROM" '$1 == p && $2 > f { if (t) printf "%d ", $5 - t; t = $5 }' "$SINK_LOG")
echo "timing: gaps between attempts (ms): $GAPS"
# a gap is the backoff plus a 200 ms tick, a claim (a commit) and a TLS
# request: below 2 s (not 2 s first), then below 4 s (not quadrupled)
check "phase 500: backoff doubles (1 s, then 2 s)" sh -c "set -- $GAPS; [ \$1 -ge 900 ] && [ \$1 -le 1900 ] && [ \$2 -ge 1800 ] && [ \$2 -le 3700 ]"
eq "phase 500: last_error recorded" "HTTP 500" "$(psql_q "SELECT last_error FROM push_state WHERE party = '$P1'")"
wait_until 10 metric_is declared_push_failed_total -ge "$N500"
check "phase 500: metrics: declared_push_failed_total >= $N500" [ "$(metric declared_push_failed_total)" -ge "$N500" ]
echo ok >"$MODE"
check "phase 500: caught up after the receiver recovered" caught_up $P1 20
eq "phase 500: then every one delivered once, in order" "$(seq $((FROM + 1)) "$(seq_of $P1)" | sed 's/$/ ok/' | tr '\n' ' ')" \
	"$(sink_lines $P1 "$FROM" | grep ' ok$' | tr '\n' ' ')"

# 4. timeout: retried, not skipped
echo timeout >"$MODE"
FROM=$(seq_of $P1)
submit_n 1
# sampling the leases gauge (held while the receiver hangs) at least 3.5 s
# and until the attempt, timed out after 2 s, is recorded as failed (up to
# 20 s)
LEASES=0
k=0
while [ $k -lt 35 ] || { [ $k -lt 200 ] && ! failed_attempt $P1 $((FROM + 1)) timeout; }; do
	l=$(metric declared_push_leases)
	[ "${l:-0}" -gt "$LEASES" ] && LEASES=$l
	sleep 0.1
	k=$((k + 1))
done
eq "phase timeout: metrics: the stream's lease held during the attempt" 1 "$LEASES"
NT=$(sink_lines $P1 "$FROM" | grep -c ' timeout$')
check "phase timeout: the receiver saw the attempt(s) ($NT)" [ "$NT" -ge 1 ]
check "phase timeout: recorded as failed after 2 s" failed_attempt $P1 $((FROM + 1)) timeout
echo ok >"$MODE"
check "phase timeout: caught up after the receiver recovered" caught_up $P1 20
eq "phase timeout: the timed-out one delivered, then the rest, in order" \
	"$(seq $((FROM + 1)) "$(seq_of $P1)" | sed 's/$/ ok/' | tr '\n' ' ')" \
	"$(sink_lines $P1 "$FROM" | grep ' ok$' | tr '\n' ' ')"

# 5. 400: recorded as rejected, the stream moves on
echo 400 >"$MODE"
FROM=$(seq_of $P1)
submit_n 1
check "phase 400: moved on without delivering" caught_up $P1 20
TO=$(seq_of $P1)
eq "phase 400: each one tried once and rejected" "$(seq $((FROM + 1)) "$TO" | sed 's/$/ 400/' | tr '\n' ' ')" \
	"$(sink_lines $P1 "$FROM" | tr '\n' ' ')"
eq "phase 400: recorded as rejected with the status" "$((TO - FROM))" \
	"$(psql_q "SELECT count(*) FROM push_attempts WHERE party = '$P1' AND seq > $FROM AND outcome = 'rejected' AND http_status = 400")"
eq "phase 400: metrics: declared_push_rejected_total" "$((TO - FROM))" "$(metric declared_push_rejected_total)"
echo ok >"$MODE"

# 6. older than the retention: expired, skipped without an attempt
echo 500 >"$MODE"
FROM=$(seq_of $P1)
submit_n 1
# once the receiver has answered the first attempt 500 the next is 1 s
# away: it finds the acknowledgement expired (up to 10 s)
wait_until 10 sink_saw $P1 "$FROM" 500
psql_q "UPDATE acks SET created_at = now() - interval '8 days' WHERE party = '$P1' AND seq > $FROM" >/dev/null
echo ok >"$MODE"
check "phase expiry: caught up" caught_up $P1 20
TO=$(seq_of $P1)
eq "phase expiry: recorded as expired" "$((TO - FROM))" \
	"$(psql_q "SELECT count(*) FROM push_attempts WHERE party = '$P1' AND seq > $FROM AND outcome = 'expired'")"
eq "phase expiry: none delivered" 0 "$(sink_lines $P1 "$FROM" | grep -c ' ok$')"
eq "phase expiry: metrics: declared_push_expired_total" "$((TO - FROM))" "$(metric declared_push_expired_total)"
submit_n 1
check "phase expiry: the next ones are delivered" caught_up $P1 20
eq "phase expiry: ... once each" "$(seq $((TO + 1)) "$(seq_of $P1)" | sed 's/$/ ok/' | tr '\n' ' ')" \
	"$(sink_lines $P1 "$TO" | tr '\n' ' ')"

# 6b. [push] is applied by a reload: with a CA that did not issue the
# receiver's certificate the attempts fail on TLS (retried, nothing
# skipped); with the right one again, delivered.  A file that is not PEM
# is refused by `declared -t`.
reload_daemon() {
	nr=$(grep -c 'msg="reloaded"' "$TDIR/daemon.log")
	kill -HUP "$DAEMON_PID"
	k=0
	while [ "$(grep -c 'msg="reloaded"' "$TDIR/daemon.log")" -le "$nr" ] && [ $k -lt 100 ]; do
		sleep 0.1
		k=$((k + 1))
	done
	[ $k -lt 100 ]
}
PUSH_CA=$TDIR/pki/officer-ca.pem PUSH_TIMEOUT=2 write_config "$TDIR/declared.conf" declared
check "reload: [push] ca = another CA" reload_daemon
FROM=$(seq_of $P1)
submit_n 1
sleep 1.5
# and until the first attempt is recorded as failed, up to 10 s more
wait_until 10 failed_attempt $P1 $((FROM + 1)) '^tls: .*certificate verify failed'
eq "reload: nothing delivered with the wrong CA" "$FROM" "$(delivered_of $P1)"
check "reload: the attempt failed on the receiver's certificate" \
	failed_attempt $P1 $((FROM + 1)) '^tls: .*certificate verify failed'
PUSH_CA=$TDIR/pki/ca.pem PUSH_TIMEOUT=2 write_config "$TDIR/declared.conf" declared
check "reload: [push] ca back to the receiver's CA" reload_daemon
check "reload: caught up with the right CA" caught_up $P1 30
eq "reload: then delivered, once each" "$(seq $((FROM + 1)) "$(seq_of $P1)" | sed 's/$/ ok/' | tr '\n' ' ')" \
	"$(sink_lines $P1 "$FROM" | tr '\n' ' ')"
PUSH_CA=$SINK_LOG write_config "$TDIR/bad.conf" declared
"$DECLARED" -t -c "$TDIR/bad.conf" >"$TDIR/bad.out" 2>&1
eq "declared -t: a [push] ca that is not PEM -> exit 1" 1 "$?"
check "declared -t: ... naming push.ca" grep -q 'at="push.ca"' "$TDIR/bad.out"

# over all phases: exactly one final outcome per acknowledgement, every
# 'delivered' is one 200 at the receiver, the stream never went back
LAST=$(seq_of $P1)
eq "one final outcome per acknowledgement" "$LAST|$LAST" \
	"$(psql_q "SELECT count(*)||'|'||count(DISTINCT seq) FROM push_attempts WHERE party = '$P1' AND outcome <> 'failed'")"
OKS=$(sink_lines $P1 0 | grep -c ' ok$')
OKU=$(sink_lines $P1 0 | grep ' ok$' | sort -u | wc -l)
eq "no acknowledgement accepted twice by the receiver" "$OKS" "$OKU"
eq "receiver 200s = deliveries recorded" "$(psql_q "SELECT count(*) FROM push_attempts WHERE party = '$P1' AND outcome = 'delivered'")" "$OKS"
eq "the stream never went back" "" "$(sink_lines $P1 0 | awk '$1 < m { print } $1 > m { m = $1 }')"

# 7. two instances on one database, three parties: each acknowledgement
# delivered exactly once
for p in 2 3; do
	"$DECLCTL" pki issue "$TDIR/pki" --ca enterprise-ca --party GB00000000009$p --out e$p >/dev/null &&
	"$DECLCTL" pki issue "$TDIR/pki" --ca signing-ca --party GB00000000009$p --out s$p >/dev/null
	curl -s --cert "$TDIR/pki/e$p.pem" --key "$TDIR/pki/e$p.key" --cacert "$TDIR/pki/ca.pem" \
		-o /dev/null -X PUT -d "{\"url\":\"$HOOK\"}" "$BASE/v1/callback"
done
API2=$(free_port)
ADMIN2=$(free_port)
sed -e "s/^listen = .*/listen = 127.0.0.1:$API2/" -e "s/^admin_listen = .*/admin_listen = 127.0.0.1:$ADMIN2/" \
	"$TDIR/declared.conf" >"$TDIR/declared2.conf"
"$DECLARED" -c "$TDIR/declared2.conf" >>"$TDIR/daemon2.log" 2>&1 &
D2_PID=$!
i=0
until curl -sf "http://127.0.0.1:$ADMIN2/readyz" >/dev/null 2>&1 || [ $i -gt 300 ]; do sleep 0.1; i=$((i + 1)); done
check "second instance ready" curl -sf "http://127.0.0.1:$ADMIN2/readyz" -o /dev/null
F1=$(seq_of $P1)
cp "$SINK_LOG" "$TDIR/sink.before"
( submit_n 12 "" "" "" "$BASE"; submit_n 12 "" "" "" "https://127.0.0.1:$API2" ) &
A=$!
( n_decl=1000; submit_n 12 e2 s2 GB000000000092 "$BASE"; submit_n 12 e2 s2 GB000000000092 "https://127.0.0.1:$API2" ) &
B=$!
( n_decl=2000; submit_n 12 e3 s3 GB000000000093 "https://127.0.0.1:$API2"; submit_n 12 e3 s3 GB000000000093 "$BASE" ) &
C=$!
wait $A; wait $B; wait $C
for p in $P1 GB000000000092 GB000000000093; do
	check "two instances: $p caught up" caught_up $p 30
done
NEWLOG=$TDIR/sink.two
tail -n +$(($(wc -l <"$TDIR/sink.before") + 1)) "$SINK_LOG" >"$NEWLOG"
for p in $P1 GB000000000092 GB000000000093; do
	from=0
	[ $p = $P1 ] && from=$F1
	want=$(($(seq_of $p) - from))
	got=$(awk -v p=$p '$1 == p { print $2 }' "$NEWLOG" | sort -n | uniq | wc -l)
	all=$(awk -v p=$p '$1 == p' "$NEWLOG" | wc -l)
	eq "two instances: $p: $want acknowledgements, each delivered exactly once" "$want|$want" "$got|$all"
	eq "two instances: $p: in order" "$(seq $((from + 1)) "$(seq_of $p)" | tr '\n' ' ')" \
		"$(awk -v p=$p '$1 == p { printf "%s ", $2 }' "$NEWLOG")"
done
psql_q "SELECT instance, count(*) FROM push_attempts WHERE at > now() - interval '1 minute' GROUP BY 1 ORDER BY 1" |
	sed 's/^/two instances: deliveries by /'
eq "two instances: no duplicate delivery recorded" 0 \
	"$(psql_q "SELECT count(*) FROM (SELECT party, seq FROM push_attempts WHERE outcome = 'delivered' GROUP BY 1, 2 HAVING count(*) > 1) x")"
kill -TERM "$D2_PID"; wait "$D2_PID"
eq "second instance: SIGTERM -> exit 0" 0 "$?"
D2_PID=

# 8. unregistered: nothing more is pushed
eq "DELETE callback -> 204" 204 "$(cb -X DELETE)"
eq "DELETE again -> 404" 404 "$(cb -X DELETE)"
N=$(wc -l <"$SINK_LOG")
submit_n 1
sleep 1
eq "nothing pushed after the callback was removed" "$N" "$(wc -l <"$SINK_LOG")"

# 9. a party that never registered a callback: its notifications start no
# lease query (the 200 ms tick still runs one)
"$DECLCTL" pki issue "$TDIR/pki" --ca enterprise-ca --party GB000000000094 --out e4 >/dev/null &&
"$DECLCTL" pki issue "$TDIR/pki" --ca signing-ca --party GB000000000094 --out s4 >/dev/null
SK=$(metric declared_push_wakes_skipped_total)
submit_n 3 e4 s4 GB000000000094
# the notifications arrive after the commits: up to 10 s
n=0
while [ "$(metric declared_push_wakes_skipped_total)" -lt $((SK + 3)) ] && [ $n -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
check "no callback: notifications skipped ($SK -> $(metric declared_push_wakes_skipped_total))" \
	[ "$(metric declared_push_wakes_skipped_total)" -ge $((SK + 3)) ]
eq "no callback: nothing pushed" 0 "$(awk '$1 == "GB000000000094"' "$SINK_LOG" | wc -l)"
# 10. a unit's callback requests share one transaction, committed at its
# sync: none is answered 200 before that commit.  A slow PUT holds one unit
# in flight; a good PUT and a failing one of the same party queue behind it
# and go in the next unit, where the failure rolls both back.  (The sleep
# stays under the database timeout, 5 s here: a unit cut by the timeout is
# answered 503 although the server may still commit it.)
psql_q "CREATE FUNCTION cb_fault() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN
	IF TG_OP = 'UPDATE' AND NEW.callback_url LIKE '%/slow' THEN PERFORM pg_sleep(2); END IF;
	IF NEW.callback_url LIKE '%/fail' THEN RAISE EXCEPTION 'injected fault'; END IF;
	RETURN NEW; END \$\$;
	CREATE TRIGGER cb_fault BEFORE INSERT OR UPDATE ON parties
	FOR EACH ROW EXECUTE FUNCTION cb_fault()" >/dev/null
put_cb() { # URL OUT
	ecurl -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
		-X PUT -d "{\"url\":\"$1\"}" "$BASE/v1/callback" >"$2"
}
put_cb https://127.0.0.1:9/slow "$TDIR/cb.slow" &
S1=$!
n=0   # until the slow PUT sleeps in the database (its unit in flight)
while [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'")" != 1 ] &&
	[ $n -lt 100 ]; do
	sleep 0.05
	n=$((n + 1))
done
put_cb https://127.0.0.1:9/good "$TDIR/cb.good" &
S2=$!
sleep 0.3
put_cb https://127.0.0.1:9/fail "$TDIR/cb.fail" &
S3=$!
wait $S1 $S2 $S3
eq "rollback: the slow PUT -> 200" 200 "$(cat "$TDIR/cb.slow")"
eq "rollback: the failing PUT -> 503" 503 "$(cat "$TDIR/cb.fail")"
eq "rollback: the good PUT, in the failing PUT's transaction -> 503, not 200" 503 "$(cat "$TDIR/cb.good")"
eq "rollback: the stored URL is the slow PUT's" https://127.0.0.1:9/slow \
	"$(psql_q "SELECT callback_url FROM parties WHERE id = '$P1'")"
psql_q "DROP TRIGGER cb_fault ON parties; DROP FUNCTION cb_fault()" >/dev/null
eq "rollback: DELETE callback -> 204" 204 "$(cb -X DELETE)"

check "daemon alive" kill -0 "$DAEMON_PID"
daemon_stop
eq "SIGTERM: exit status 0" 0 "$?"
finish
