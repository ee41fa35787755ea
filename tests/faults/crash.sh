# Crash safety: under a sustained load, SIGKILL the daemon at random moments
# CRASH_KILLS times and restart it.  Every declaration that got a 202 must be
# in the database exactly once; resubmitting all the others stores each once.
# Sourced by run.sh.

phase_crash() {
	local kills=0 lp t0 nap L starts=0 dt sum_restart=0
	load_bg "$FS/crash.out" --dir "$DOCS/CR" --rate "$CRASH_RATE" --conns 16 \
		--timeout 20 --log "$FS/crash.log"
	lp=$LOAD_PID
	t0=$(date +%s)
	sleep 1
	while [ "$kills" -lt "$CRASH_KILLS" ] && kill -0 "$lp" 2>/dev/null; do
		# a random moment: 0.3 to 1.5 s into this life of the daemon
		nap=$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 1200) / 1000 }')
		sleep "$nap"
		daemon_kill9
		kills=$((kills + 1))
		count injected 1
		dt=$(date +%s%N)
		daemon_start || { not_ok "restart after kill $kills"; break; }
		starts=$((starts + 1))
		sum_restart=$((sum_restart + ($(date +%s%N) - dt) / 1000000))
	done
	sleep 1
	load_stop
	L=$LOAD_LINE
	echo "crash load: $L"
	eq "SIGKILL at random moments under load: $CRASH_KILLS kills" "$CRASH_KILLS" "$kills"
	count acknowledged "$(kv s202 "$L")"
	note "crash: kills=$kills load_s=$(($(date +%s) - t0)) acked=$(kv s202 "$L")" \
		"noanswer=$(kv noanswer "$L") restart_ms_avg=$((starts > 0 ? sum_restart / starts : 0))"
	check "crash: declarations were acknowledged between the kills" [ "$(kv s202 "$L")" -gt 0 ]
	verify_set crash CR "$FS/crash.log"
	resubmit_set crash CR "$DOCS/CR" "$FS/crash.log"
}
