# Shared by the fault suite (tests/faults/*.sh); sourced after
# tests/integration/lib.sh by run.sh.  bash.
#   $FS        the suite's state directory (counters, logs)
#   $DOCS      signed documents, one directory per set

# ---- counters: "key value" lines, summed at the end ----------------------
count() { # KEY N
	echo "$1 $2" >>"$FS/counters"
}
total() { # KEY
	awk -v k="$1" '$1 == k { s += $2 } END { print s + 0 }' "$FS/counters" 2>/dev/null
}
note() { # a figure for the summary and docs/reliability.md
	echo "figure: $*" | tee -a "$FS/figures"
}

# ---- the daemon ------------------------------------------------------------
# daemon_alive: 0 when it runs; a daemon that died on its own is a crash
daemon_alive() {
	[ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null
}
# sanitizer_reports: reports in the daemon's log (each one is a crash)
sanitizer_reports() {
	grep -cE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer' \
		"$TDIR/daemon.log" 2>/dev/null || true
}
# crash_check WHAT: counts a crash when the daemon is gone
crash_check() {
	if ! daemon_alive; then
		count crashes 1
		not_ok "$1: the daemon died (see $TDIR/daemon.log)"
		tail -n 20 "$TDIR/daemon.log"
		wait "$DAEMON_PID" 2>/dev/null
		DAEMON_PID=
		daemon_start || return 1
		return 1
	fi
	return 0
}
daemon_kill9() {
	kill -9 "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=
}
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$DAEMON_PID/status" 2>/dev/null || echo 0; }
fds() { ls "/proc/$DAEMON_PID/fd" 2>/dev/null | wc -l; }
# rss_watch FILE: samples the daemon's RSS (kB) every 0.5 s into FILE until
# killed; run in the background
rss_watch() {
	while kill -0 "$DAEMON_PID" 2>/dev/null; do
		echo "$(rss_kb) $(fds)" >>"$1"
		sleep 0.5
	done
}
max_col() { # FILE COL
	awk -v c="$2" 'BEGIN { m = 0 } $c > m { m = $c } END { print m }' "$1" 2>/dev/null
}

# ---- load ------------------------------------------------------------------
# load ARGS...: faultload as the demo enterprise; prints its last line
load() {
	"$BUILD/faultload" --port "$API_PORT" --cert "$TDIR/pki/enterprise.pem" \
		--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" "$@" |
		tail -n 1
}
# load_bg OUT ARGS...: the same in the background, all output to OUT;
# LOAD_PID is faultload's own pid (SIGTERM ends it cleanly)
load_bg() {
	LOAD_OUT=$1; shift
	"$BUILD/faultload" --port "$API_PORT" --cert "$TDIR/pki/enterprise.pem" \
		--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" "$@" \
		>"$LOAD_OUT" 2>&1 &
	LOAD_PID=$!
}
# load_stop [wait]: stops the background load (or with "wait", lets it run
# to its end); sets LOAD_LINE to its last line
load_stop() {
	[ "${1:-}" = wait ] || kill -TERM "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=
	LOAD_LINE=$(grep '^faultload:' "$LOAD_OUT" | tail -n 1)
}
# repeat_list DIR TIMES OUT: the files of DIR TIMES over, for a load that
# resubmits (each repeat is a duplicate: verified, looked up, answered 202
# with the original receipt, as much work as a new one but for the insert)
repeat_list() {
	: >"$3"
	i=0
	while [ "$i" -lt "$2" ]; do
		find "$1" -name 'decl-*.xml' | sort >>"$3"
		i=$((i + 1))
	done
}
kv() { # KEY LINE
	echo "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}
# lrns LOG CODE: the LRNs of the files that got CODE (decl-NNNNNN.xml of a
# set made with --lrn PREFIX -> PREFIX-NNNNNN; the set is named after it)
lrns() {
	awk -v c="$2" '$1 == c { print $3 }' "$1" |
		sed -E 's#.*/([A-Z]+)/decl-([0-9]+)\.xml$#\1-\2#'
}
# not_code LOG CODE: the files that did not get CODE, one per line
not_code() {
	awk -v c="$2" '$1 != c { print $3 }' "$1"
}

# verify_set NAME PREFIX LOG...: compares the 202s of the logs with the
# database.  lost: an acknowledged LRN not stored; duplicated: an LRN stored
# more than once; half: a stored declaration without its two events and two
# acknowledgements (accepted + released, one transaction).
verify_set() {
	name=$1; prefix=$2; shift 2
	for l in "$@"; do lrns "$l" 202; done | sort -u >"$FS/$name.acked"
	psql_q "SELECT lrn FROM declarations WHERE lrn LIKE '$prefix-%'" | sort >"$FS/$name.stored"
	lost=$(comm -23 "$FS/$name.acked" "$FS/$name.stored" | wc -l)
	dup=$(psql_q "SELECT count(*) FROM (SELECT 1 FROM declarations WHERE lrn LIKE '$prefix-%' GROUP BY declarant, lrn HAVING count(*) > 1) x")
	half=$(psql_q "SELECT count(*) FROM declarations d WHERE d.lrn LIKE '$prefix-%' AND
		((SELECT count(*) FROM events e WHERE e.declaration_id = d.id) <> 2 OR
		 (SELECT count(*) FROM acks a WHERE a.declaration_id = d.id) <> 2)")
	count lost "$lost"
	count duplicated "$dup"
	eq "$name: every 202 is stored ($(wc -l <"$FS/$name.acked") acknowledged)" 0 "$lost"
	eq "$name: no declaration stored twice" 0 "$dup"
	eq "$name: nothing half-written (2 events + 2 acks per declaration)" 0 "$half"
}

# resubmit_set NAME PREFIX DIR LOG...: sends again every file that did not
# get a 202, then every file of DIR must be stored exactly once
resubmit_set() {
	name=$1; prefix=$2; dir=$3; shift 3
	for l in "$@"; do not_code "$l" 202; done | sort -u >"$FS/$name.again"
	# a file answered 202 in a later log is not sent again
	for l in "$@"; do awk '$1 == 202 { print $3 }' "$l"; done | sort -u >"$FS/$name.ok"
	comm -23 "$FS/$name.again" "$FS/$name.ok" >"$FS/$name.resend"
	n=$(wc -l <"$FS/$name.resend")
	if [ "$n" -gt 0 ]; then
		L=$(load --list "$FS/$name.resend" --conns 8 --log "$FS/$name.resend.log" --timeout 30)
		echo "$name resubmission: $L"
		eq "$name: each of the $n resubmitted files -> 202" "$n" "$(kv s202 "$L")"
	fi
	want=$(find "$dir" -name 'decl-*.xml' | wc -l)
	got=$(psql_q "SELECT count(*)||'|'||count(DISTINCT lrn) FROM declarations WHERE lrn LIKE '$prefix-%'")
	eq "$name: after resubmission every file is stored exactly once" "$want|$want" "$got"
}
