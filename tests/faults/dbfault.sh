# Database faults under load, the daemon never restarted:
#   PostgreSQL stopped with `pg_ctl stop -m immediate`, then started again;
#   PostgreSQL frozen (SIGSTOP of all its processes) past the daemon's
#   database timeout, then thawed (SIGCONT);
#   the daemon's connections cut by the relay (reset), twice;
#   a network partition (the relay forwards nothing) past the timeout.
# While it is down: fast 503s, no answer later than the timeouts allow.
# After each fault: ready again without a restart.  At the end: every 202
# stored once, nothing half-written, every other file stored once when sent
# again.  Sourced by run.sh.

# ready_within S: 0 when /readyz answers 200 within S seconds
ready_within() {
	local i=0
	while [ "$i" -lt $(($1 * 10)) ]; do
		curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$ADMIN_PORT/readyz" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# fault NAME: one fault injected; then the daemon must recover by itself
fault_recovered() {
	local t0=$(date +%s%N) ms
	if ready_within 20; then
		ms=$((($(date +%s%N) - t0) / 1000000))
		ok "$1: ready again without a restart (${ms} ms after the fault ended)"
		note "db: $1 recovery_ms=$ms"
	else
		not_ok "$1: not ready 20 s after the fault ended"
	fi
	check "$1: the same daemon process" [ "$(cat "$FS/db.pid")" = "$DAEMON_PID" ]
}

phase_dbfault() {
	local L t0 slack
	echo "$DAEMON_PID" >"$FS/db.pid"
	load_bg "$FS/db.out" --dir "$DOCS/DB" --rate "$DB_RATE" --conns 16 --timeout 30 \
		--log "$FS/db.log"
	t0=$(date +%s)
	sleep 3

	# 1. immediate stop, 3 s down, start (crash recovery)
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate -w stop >/dev/null 2>&1
	count injected 1
	sleep 3
	curl -s --max-time 5 -o "$FS/readyz.down" "http://127.0.0.1:$ADMIN_PORT/readyz"
	check "pg stopped: /readyz says the database is unavailable" \
		grep -q 'database' "$FS/readyz.down"
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/pg.log" -w -t 60 start >/dev/null ||
		not_ok "PostgreSQL did not start again"
	fault_recovered "pg_ctl stop -m immediate"
	sleep 2

	# 2. frozen past the database timeout
	pg_freeze
	count injected 1
	sleep $((DB_TIMEOUT + 2))
	pg_thaw
	fault_recovered "SIGSTOP/SIGCONT of PostgreSQL"
	sleep 2

	# 3. connections cut (reset), twice
	kill -USR1 "$RELAY_PID"
	count injected 1
	fault_recovered "connections cut"
	sleep 1
	kill -USR1 "$RELAY_PID"
	count injected 1
	fault_recovered "connections cut again"
	sleep 2

	# 4. partition past the timeout: nothing forwarded, nothing refused
	kill -USR2 "$RELAY_PID"
	count injected 1
	sleep $((DB_TIMEOUT + 3))
	kill -USR2 "$RELAY_PID"
	fault_recovered "network partition"
	sleep 3
	load_stop
	L=$LOAD_LINE
	echo "db load: $L"
	count acknowledged "$(kv s202 "$L")"
	note "db: load_s=$(($(date +%s) - t0)) $(echo "$L" | cut -d' ' -f2-)"
	# every answer within the timeouts: a unit in flight fails after
	# DB_TIMEOUT; the batcher and the reconnect add at most a few seconds
	slack=$(((DB_TIMEOUT + 5) * 1000))
	check "no request hangs: every request answered (noanswer=$(kv noanswer "$L"))" \
		[ "$(kv noanswer "$L")" -eq 0 ]
	check "no answer later than the database timeout + 5 s (max_ms=$(kv max_ms "$L"))" \
		awk "BEGIN { exit !($(kv max_ms "$L") <= $slack) }"
	check "503s while the database is away ($(kv s503 "$L"))" [ "$(kv s503 "$L")" -gt 0 ]
	check "503s within the database timeout (max503_ms=$(kv max503_ms "$L"))" \
		awk "BEGIN { exit !($(kv max503_ms "$L") <= $((DB_TIMEOUT * 1000 + 1500))) }"
	p503=$(awk '$1 == 503 { print $2 }' "$FS/db.log" | sort -n |
		awk '{ v[NR] = $1 } END { print (NR ? v[int((NR + 1) / 2)] : 0) }')
	note "db: median_503_ms=$p503"
	check "503s are fast: median ${p503} ms <= 100 ms" awk "BEGIN { exit !($p503 <= 100) }"
	check "no other error status (4xx=$(kv s4xx "$L") 5xx=$(kv s5xx "$L"))" \
		[ "$(kv s4xx "$L")" -eq 0 -a "$(kv s5xx "$L")" -eq 0 ]
	check "202s resumed after the last fault" \
		sh -c "grep -v '^0 0 ' '$FS/db.log' | tail -n 50 | grep -q '^202 '"
	verify_set db DB "$FS/db.log"
	resubmit_set db DB "$DOCS/DB" "$FS/db.log"
}
