# Hostile input at load.  A legitimate client submits at LEGIT_RATE the whole
# time while, one after the other: every file of the shared vectors, the
# generated parser attacks, llhttp's malformed requests, oversized headers
# and bodies, slowloris and slow bodies (our own client and slowhttptest),
# HALFOPEN half-open TLS handshakes, and expired, revoked and foreign client
# certificates.  Each gets its error; the daemon's memory stays bounded;
# the legitimate client keeps its throughput (compared with a run before the
# attacks).  Sourced by run.sh.

# attack_load NAME LIST: POSTs every file of LIST; sets AL (faultload's line)
attack_load() {
	AL=$(load --list "$2" --conns 4 --timeout 60 --log "$FS/$1.log")
	echo "$1: $AL"
	count attacks "$(kv sent "$AL")"
}

# codes_of LOG: "code count" pairs
codes_of() { awk '{ print $1 }' "$1" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }'; }

# bad_cert NAME CERT KEY TIMES: every handshake refused, never an answer
bad_cert() {
	local i=0 answered=0 code
	while [ "$i" -lt "$4" ]; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 ${2:+--cert "$2" --key "$3"} \
			--cacert "$P/ca.pem" -H 'Content-Type: application/xml' \
			--data-binary @"$DOCS/LG/decl-000001.xml" "https://127.0.0.1:$API_PORT/v1/declarations")
		[ "$code" = 000 ] || answered=$((answered + 1))
		i=$((i + 1))
	done
	count attacks "$4"
	eq "$1: $4 connections refused in the TLS handshake" 0 "$answered"
}

phase_hostile() {
	local L0 L1 rss0 rss_peak fds0 fds1 t0 per0 per1 n
	repeat_list "$DOCS/LG" 40 "$FS/legit.list"
	# 0. the legitimate client alone
	L0=$(load --list "$FS/legit.list" --rate "$LEGIT_RATE" --conns 8 --seconds 8 \
		--log "$FS/legit0.log")
	echo "baseline: $L0"
	per0=$(kv per_s "$L0")
	rss0=$(rss_kb)
	fds0=$(fds)
	: >"$FS/rss"
	rss_watch "$FS/rss" &
	RSS_PID=$!
	t0=$(date +%s)
	load_bg "$FS/legit1.out" --list "$FS/legit.list" --rate "$LEGIT_RATE" --conns 8 \
		--timeout 30 --log "$FS/legit1.log"

	# 1. every file of the shared vectors, as a declaration
	if [ -d "$VECTORS_DIR" ]; then
		find "$VECTORS_DIR" -type f | sort >"$FS/vectors.list"
		attack_load vectors "$FS/vectors.list"
		n=$(wc -l <"$FS/vectors.list")
		eq "vectors: all $n answered" "$n" "$(kv sent "$AL")"
		eq "vectors: each one refused with a 4xx ($(codes_of "$FS/vectors.log"))" "$n" \
			"$(awk '$1 >= 400 && $1 < 500' "$FS/vectors.log" | wc -l)"
		crash_check "vectors"
		# 2. the generated parser attacks (XXE to a closed port)
		sh "$VECTORS_DIR/../tools/gen_parser_attacks.sh" "$TDIR/attacks" 1 >/dev/null 2>&1
		find "$TDIR/attacks" -type f | sort >"$FS/gen.list"
		attack_load generated "$FS/gen.list"
		n=$(wc -l <"$FS/gen.list")
		check "generated attacks: $n files" [ "$n" -gt 0 ]
		# over max_body the daemon sends 413 and closes while the client is
		# still sending: the reset may destroy the 413 before it is read
		eq "generated attacks: each one 400 or 413, or closed when over max_body ($(codes_of "$FS/generated.log"))" \
			"$n" "$(while read -r c ms f; do
				if [ "$c" = 400 ] || [ "$c" = 413 ]; then echo x
				elif [ "$c" = 0 ] && [ "$(stat -c %s "$f")" -gt 10485760 ]; then echo x; fi
			done <"$FS/generated.log" | wc -l)"
		crash_check "generated attacks"
		# 3. llhttp's requests, raw, on authenticated connections
		python3 "$ROOT/tests/faults/llhttp_cases.py" "$VECTORS_DIR/llhttp-test-request" \
			"$TDIR/llhttp" >/dev/null
		(cd "$TDIR/llhttp" && "$BUILD/faultattack" raw --port "$API_PORT" \
			--cert "$P/enterprise.pem" --key "$P/enterprise.key" --cacert "$P/ca.pem" \
			--wait 2 $(cut -f1 MANIFEST)) >"$FS/llhttp.out"
		n=$(wc -l <"$TDIR/llhttp/MANIFEST")
		count attacks "$n"
		note "llhttp: $n requests: $(awk '{ print $1 }' "$FS/llhttp.out" | sort | uniq -c |
			awk '{ printf "%s:%s ", $2, $1 }')"
		eq "llhttp: every request answered, closed or timed out" "$n" \
			"$(grep -cE '^([1-5][0-9][0-9]|closed|timeout) ' "$FS/llhttp.out")"
		eq "llhttp: no request accepted (2xx)" 0 "$(grep -cE '^2[0-9][0-9] ' "$FS/llhttp.out")"
		eq "llhttp: no server error (5xx but 501 and 505)" 0 \
			"$(grep -E '^5[0-9][0-9] ' "$FS/llhttp.out" | grep -cvE '^50[15] ')"
		join -t "$(printf '\t')" <(sort "$TDIR/llhttp/MANIFEST") \
			<(awk '{ print $2 "\t" $1 }' "$FS/llhttp.out" | sort) >"$FS/llhttp.joined"
		note "llhttp: cases llhttp rejects: $(awk -F'\t' '$2 == "error" { print $3 }' \
			"$FS/llhttp.joined" | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }')"
		crash_check "llhttp requests"
	else
		echo "skip: vectors not found at $VECTORS_DIR (set VECTORS_DIR)"
	fi

	# 4. oversized headers and bodies
	mkdir -p "$TDIR/big"
	{ printf 'POST /v1/declarations HTTP/1.1\r\nHost: x\r\nX-Big: '
	  head -c 40000 /dev/zero | tr '\0' 'a'; printf '\r\nContent-Length: 0\r\n\r\n'; } >"$TDIR/big/header.req"
	{ printf 'POST /v1/declarations HTTP/1.1\r\nHost: x\r\n'
	  i=0; while [ $i -lt 2000 ]; do printf 'X-H%d: v\r\n' $i; i=$((i + 1)); done
	  printf 'Content-Length: 0\r\n\r\n'; } >"$TDIR/big/headers.req"
	printf 'POST /v1/declarations HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\nabc' \
		>"$TDIR/big/length.req"
	printf 'POST /v1/declarations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\nabc' \
		>"$TDIR/big/chunk.req"
	printf 'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 30000 /dev/zero | tr '\0' 'u')" \
		>"$TDIR/big/uri.req"
	(cd "$TDIR/big" && "$BUILD/faultattack" raw --port "$API_PORT" --cert "$P/enterprise.pem" \
		--key "$P/enterprise.key" --cacert "$P/ca.pem" --wait 3 \
		header.req headers.req length.req chunk.req uri.req) >"$FS/big.out"
	cat "$FS/big.out"
	count attacks 5
	eq "oversized headers, URI and declared bodies: each refused (400/413/414/431) or closed" 5 \
		"$(grep -cE '^(400|413|414|431|closed) ' "$FS/big.out")"
	crash_check "oversized requests"

	# 5. slow clients, authenticated: one header line or one body byte a second
	"$BUILD/faultattack" slow --port "$API_PORT" --cert "$P/enterprise.pem" --key "$P/enterprise.key" \
		--cacert "$P/ca.pem" --n "$SLOW" --mode headers --interval 1 \
		--seconds $((READ_TIMEOUT * 3)) >"$FS/slow-headers.out" &
	local sp1=$!
	"$BUILD/faultattack" slow --port "$API_PORT" --cert "$P/enterprise.pem" --key "$P/enterprise.key" \
		--cacert "$P/ca.pem" --n "$SLOW" --mode body --interval 1 \
		--seconds $((READ_TIMEOUT * 3)) >"$FS/slow-body.out" &
	local sp2=$!
	# 6. half-open TLS handshakes: nothing sent, or half a ClientHello
	"$BUILD/faultattack" halfopen --port "$API_PORT" --n $((HALFOPEN / 2)) \
		--seconds $((READ_TIMEOUT * 3)) >"$FS/halfopen.out" &
	local hp1=$!
	"$BUILD/faultattack" halfopen --port "$API_PORT" --n $((HALFOPEN / 2)) --partial \
		--seconds $((READ_TIMEOUT * 3)) >"$FS/halfopen-partial.out" &
	local hp2=$!
	sleep 2
	note "during slow clients and half-open handshakes: daemon fds=$(fds) rss_kb=$(rss_kb)"
	wait "$sp1" "$sp2" "$hp1" "$hp2"
	for f in slow-headers slow-body halfopen halfopen-partial; do
		L1=$(tail -n 1 "$FS/$f.out")
		echo "$f: $L1"
		note "$f: $(echo "$L1" | cut -d' ' -f2-)"
		count attacks "$(kv opened "$L1")"
		check "$f: every connection opened ($(kv opened "$L1"))" [ "$(kv opened "$L1")" -gt 0 ]
		check "$f: the daemon closed them within $((READ_TIMEOUT * 3)) s ($(kv closed_by_server "$L1") of $(kv opened "$L1"))" \
			[ "$(kv closed_by_server "$L1")" -ge $(($(kv opened "$L1") * 199 / 200)) ]
	done
	crash_check "slow clients and half-open handshakes"

	# 7. slowhttptest through a bridge that adds the client certificate
	if command -v slowhttptest >/dev/null; then
		local bport bp
		bport=$(free_port)
		"$BUILD/faultattack" bridge --listen "$bport" --port "$API_PORT" --cert "$P/enterprise.pem" \
			--key "$P/enterprise.key" --cacert "$P/ca.pem" --seconds 60 >"$FS/bridge.out" &
		bp=$!
		sleep 0.3
		for m in H B; do
			(cd "$FS" && timeout 40 slowhttptest -$m -c 300 -r 100 -i 1 -l $((READ_TIMEOUT * 3)) \
				-s 100000 -t POST -u "http://127.0.0.1:$bport/v1/declarations" \
				-g -o "slowhttptest-$m" >"$FS/slowhttptest-$m.out" 2>&1)
			count attacks 300
			sed 's/\x1b\[[0-9;]*m//g' "$FS/slowhttptest-$m.out" |
				grep -E 'closed|pending|connected|error|service available' | tail -n 5 |
				tr -s ' \t' ' ' | sed "s/^/slowhttptest -$m: /"
			check "slowhttptest -$m: service available to it at the end" \
				grep -q 'service available:.*YES' "$FS/slowhttptest-$m.out"
		done
		kill "$bp" 2>/dev/null
		wait "$bp" 2>/dev/null
		crash_check "slowhttptest"
	else
		echo "skip: slowhttptest not installed (apt-get install slowhttptest)"
	fi

	# 8. wrong, expired and revoked client certificates, and none
	bad_cert "expired client certificate" "$P/expired.pem" "$P/expired.key" 50
	bad_cert "revoked client certificate" "$P/revoked.pem" "$P/revoked.key" 50
	bad_cert "certificate of a foreign CA" "$TDIR/foreign/enterprise.pem" \
		"$TDIR/foreign/enterprise.key" 50
	bad_cert "no client certificate" "" "" 50
	crash_check "bad certificates"

	# the legitimate client, all along
	load_stop
	L1=$LOAD_LINE
	kill "$RSS_PID" 2>/dev/null
	wait "$RSS_PID" 2>/dev/null
	echo "legitimate client during the attacks: $L1"
	per1=$(kv per_s "$L1")
	rss_peak=$(max_col "$FS/rss" 1)
	fds1=$(fds)
	note "legit: baseline per_s=$per0 p99_ms=$(kv p99_ms "$L0"); under attack" \
		"per_s=$per1 p99_ms=$(kv p99_ms "$L1") max_ms=$(kv max_ms "$L1")" \
		"for $(($(date +%s) - t0)) s"
	note "memory: rss_kb before=$rss0 peak=$rss_peak after=$(rss_kb);" \
		"fds before=$fds0 peak=$(max_col "$FS/rss" 2) after=$fds1"
	eq "legitimate client: every request accepted (202) during the attacks" \
		"$(kv sent "$L1")" "$(kv s202 "$L1")"
	check "legitimate client keeps >= 90% of its throughput ($per1/s vs $per0/s)" \
		awk "BEGIN { exit !($per1 >= 0.9 * $per0) }"
	check "memory bounded: peak RSS ${rss_peak} kB <= 600 MB" [ "$rss_peak" -le 614400 ]
	check "connections released: $fds1 fds after, $fds0 before" [ "$fds1" -le $((fds0 + 40)) ]
}
