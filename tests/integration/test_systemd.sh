#!/bin/sh
# The systemd side: the unit, sysusers and tmpfiles files are valid and the
# unit's exposure stays <= 2.0; the daemon speaks the sd_notify protocol
# (READY, STATUS, WATCHDOG, RELOADING, STOPPING) to a NOTIFY_SOCKET without
# systemd; and every system call it makes is allowed by the unit's
# SystemCallFilter.  Needs systemd-analyze (systemd 252: `security
# --offline=true`), PostgreSQL, build/declared, build/notifylisten;
# strace for the system call part (skipped without it).
. "$(dirname "$0")/lib.sh"
MAX_EXPOSURE=${MAX_EXPOSURE:-2.0}
UNIT=$ROOT/systemd/declared.service
NOTIFYLISTEN=$BUILD/notifylisten
WORK=$(mktemp -d /tmp/declared-sd.XXXXXX)
chmod 755 "$WORK"
LISTEN_PID=

cleanup() {
	[ -n "$LISTEN_PID" ] && kill "$LISTEN_PID" 2>/dev/null
	if [ -n "${TDIR:-}" ]; then teardown_all; fi
	if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- the unit
if ! have systemd-analyze; then
	not_ok "systemd-analyze is installed (apt-get install systemd)"
	finish; exit
fi

# the unit as installed, pointing at the built binary (verify wants an
# executable ExecStart); /bin/true stands in while the daemon is not built
BIN=$DECLARED
[ -x "$BIN" ] || { echo "skip: $DECLARED not built, verifying with /bin/true"; BIN=/bin/true; }
sed "s#/usr/sbin/declared#$BIN#g" "$UNIT" >"$WORK/declared.service"

# Documentation= names man pages: verify looks them up, here in man/
MANOPT=
if have man; then
	for p in "$ROOT"/man/*.[158]; do
		[ -f "$p" ] || continue
		s=${p##*.}
		mkdir -p "$WORK/man/man$s"
		cp "$p" "$WORK/man/man$s/"
	done
else
	echo "skip: man(1) not installed, verify runs with --man=no"
	MANOPT=--man=no
fi
out=$(cd "$WORK" && MANPATH=$WORK/man systemd-analyze verify $MANOPT declared.service 2>&1)
st=$?
eq "systemd-analyze verify: exit 0" 0 "$st"
eq "systemd-analyze verify: no warnings" "" "$out"

sec=$(cd "$WORK" && systemd-analyze security --offline=true --no-pager declared.service 2>&1)
echo "$sec" | grep -v '^✓' | sed 's/^/# /'
exposure=$(echo "$sec" | sed -n 's/.*Overall exposure level for declared.service: \([0-9.]*\).*/\1/p')
check "security --offline reports an exposure level ($exposure)" [ -n "$exposure" ]
check "exposure $exposure <= $MAX_EXPOSURE" \
	awk -v e="${exposure:-99}" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(e + 0 <= m + 0) }'
eq "security --offline: no warnings about the unit" "" \
	"$(echo "$sec" | grep -i 'unknown\|ignoring\|invalid\|failed' | head -n 3)"

# the contract of DESIGN.md, setting by setting (security scores some of
# them only loosely, and Type/Watchdog/Reload not at all)
for kv in Type=notify NotifyAccess=main WatchdogSec=30s TimeoutStopSec=30s \
	'ExecStartPre=/usr/sbin/declared -t -c /etc/declared/declared.conf' \
	'ExecStart=/usr/sbin/declared -c /etc/declared/declared.conf' \
	'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure \
	User=declared Group=declared StateDirectory=declared RuntimeDirectory=declared \
	ConfigurationDirectory=declared LimitNOFILE=65536 UMask=0077 \
	NoNewPrivileges=yes ProtectSystem=strict CapabilityBoundingSet= \
	PrivateTmp=yes PrivateDevices=yes PrivateUsers=yes \
	'SystemCallFilter=@system-service' 'SystemCallFilter=~@privileged @resources' \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' MemoryDenyWriteExecute=yes; do
	check "unit has $kv" grep -qxF "$kv" "$UNIT"
done

# sysusers and tmpfiles, applied to an empty root
R=$WORK/root
mkdir -p "$R/etc" "$R/usr/lib/sysusers.d" "$R/usr/lib/tmpfiles.d"
cp "$ROOT/systemd/declared.sysusers" "$R/usr/lib/sysusers.d/declared.conf"
cp "$ROOT/systemd/declared.tmpfiles" "$R/usr/lib/tmpfiles.d/declared.conf"
check "systemd-sysusers accepts the snippet" \
	sh -c "systemd-sysusers --root='$R' declared.conf >/dev/null 2>&1"
eq "user declared: system uid, no shell, home /var/lib/declared" \
	"declared:/var/lib/declared:/usr/sbin/nologin:system" \
	"$(awk -F: '$1 == "declared" { print $1 ":" $6 ":" $7 ":" ($3 < 1000 ? "system" : "regular") }' "$R/etc/passwd" 2>/dev/null)"
check "group declared exists" grep -q '^declared:' "$R/etc/group"
check "systemd-tmpfiles accepts the snippet" \
	sh -c "systemd-tmpfiles --root='$R' --create declared.conf >'$WORK/tmpfiles.log' 2>&1"
[ -s "$WORK/tmpfiles.log" ] && sed 's/^/# /' "$WORK/tmpfiles.log"
gid=$(awk -F: '$1 == "declared" { print $3 }' "$R/etc/group")
uid=$(awk -F: '$1 == "declared" { print $3 }' "$R/etc/passwd")
eq "/etc/declared: root, group declared, 0750" "0:${gid:-?}:750" \
	"$(stat -c '%u:%g:%a' "$R/etc/declared" 2>/dev/null)"
eq "/var/lib/declared: declared, 0750" "${uid:-?}:${gid:-?}:750" \
	"$(stat -c '%u:%g:%a' "$R/var/lib/declared" 2>/dev/null)"

# ---------------------------------------------------------------- sd_notify
if [ ! -x "$DECLARED" ] || [ ! -x "$NOTIFYLISTEN" ] || [ ! -x "$DECLCTL" ]; then
	not_ok "daemon, declctl and notifylisten are built ($BUILD)"
	finish; exit
fi

TDIR=$(mktemp -d /tmp/declared-it.XXXXXX)
chmod 755 "$TDIR"
pg_start "$TDIR/pg" || { not_ok "PostgreSQL starts"; finish; exit; }
"$DECLCTL" pki init "$TDIR/pki" >/dev/null || { not_ok "declctl pki init"; finish; exit; }
API_PORT=$(free_port)
ADMIN_PORT=$(free_port)
write_config "$TDIR/migrate.conf" postgres
"$DECLARED" --migrate -c "$TDIR/migrate.conf" >"$TDIR/migrate.log" 2>&1 ||
	{ cat "$TDIR/migrate.log"; not_ok "migrations"; finish; exit; }
psql_q "CREATE ROLE declared LOGIN IN ROLE declared_writer" >/dev/null
write_config "$TDIR/declared.conf" declared

# ExecStartPre: -t accepts the config, refuses a broken one, needs no database
check "declared -t accepts the test configuration" \
	sh -c "'$DECLARED' -t -c '$TDIR/declared.conf' >'$TDIR/t.log' 2>&1"
sed 's/^\[database\]$/[database]\nbogus_key = 1/' "$TDIR/declared.conf" >"$TDIR/bad.conf"
check "declared -t refuses an unknown key (exit != 0)" \
	sh -c "! '$DECLARED' -t -c '$TDIR/bad.conf' >'$TDIR/t-bad.log' 2>&1"

SOCK=$TDIR/notify.sock
NLOG=$TDIR/notify.log
WD_USEC=2000000
"$NOTIFYLISTEN" -t 120 "$SOCK" >"$NLOG" 2>"$TDIR/notifylisten.err" &
LISTEN_PID=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "notify socket is listening" [ -S "$SOCK" ]

# WATCHDOG_PID must be the daemon's pid: the shell execs into the daemon
NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=$WD_USEC \
	sh -c 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$0" -c "$1"' \
	"$DECLARED" "$TDIR/declared.conf" >>"$TDIR/daemon.log" 2>&1 &
DAEMON_PID=$!
DPID=$DAEMON_PID

# lines ASSIGNMENT [FROM_LINE]: how many lines after FROM_LINE carry it
lines() { tail -n +"$((${2:-0} + 1))" "$NLOG" | awk -v a="$1" '$4 == a' | wc -l; }
# wait_for ASSIGNMENT FROM_LINE SECONDS: until it shows up after FROM_LINE
wait_for() {
	n=0
	while [ "$(lines "$1" "$2")" -eq 0 ]; do
		n=$((n + 1))
		[ $n -gt $(($3 * 10)) ] && return 1
		kill -0 "$DAEMON_PID" 2>/dev/null || { sleep 0.2; [ "$(lines "$1" "$2")" -gt 0 ]; return; }
		sleep 0.1
	done
}
# seq_of ASSIGNMENT FROM_LINE: the datagram number of its first occurrence
seq_of() { tail -n +"$(($2 + 1))" "$NLOG" | awk -v a="$1" '$4 == a { print $2; exit }'; }
nlines() { wc -l <"$NLOG"; }

if wait_for READY=1 0 20; then
	ok "READY=1 within 20 s"
else
	not_ok "READY=1 within 20 s"
	tail -n 30 "$TDIR/daemon.log" | sed 's/^/# /'
	finish; exit
fi
eq "ready means ready: /readyz answers 200 at READY=1" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")"
n0=$(lines WATCHDOG=1)
sleep 3
n1=$(lines WATCHDOG=1)
check "WATCHDOG=1 at least twice in 3 s (got $((n1 - n0)))" [ $((n1 - n0)) -ge 2 ]
# systemd kills the service when a ping is later than WATCHDOG_USEC
gap=$(awk '$4 == "WATCHDOG=1" { if (p != "") { g = $1 - p; if (g > m) m = g } p = $1 }
	END { print m + 0 }' "$NLOG")
check "WATCHDOG=1 never more than ${WD_USEC}us apart (max gap ${gap} ms)" \
	[ "$gap" -lt $((WD_USEC / 1000)) ]
check "STATUS= lines arrive" [ "$(awk '$4 ~ /^STATUS=/' "$NLOG" | wc -l)" -ge 1 ]
awk '$4 ~ /^STATUS=/' "$NLOG" | tail -n 1 | sed 's/^/# /'

# SIGHUP: RELOADING=1, then READY=1, daemon still serving
m=$(nlines)
kill -HUP "$DAEMON_PID"
check "SIGHUP: RELOADING=1" wait_for RELOADING=1 "$m" 10
check "SIGHUP: READY=1 after RELOADING=1" wait_for READY=1 "$m" 10
r1=$(seq_of RELOADING=1 "$m")
r2=$(seq_of READY=1 "$m")
ordered() { [ "$1" -gt 0 ] && [ "$2" -gt "$1" ]; }
check "SIGHUP: RELOADING=1 (datagram ${r1:-none}) before READY=1 (${r2:-none})" \
	ordered "${r1:-0}" "${r2:-0}"
check "still running after the reload" kill -0 "$DAEMON_PID"
eq "still ready after the reload" 200 \
	"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz")"

# SIGTERM: STOPPING=1 and exit 0
m=$(nlines)
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
st=$?
DAEMON_PID=
eq "SIGTERM: exit status 0" 0 "$st"
# sent before the exit, logged once notifylisten has read it: up to 5 s
i=0
while [ "$(lines STOPPING=1 "$m")" -eq 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "SIGTERM: STOPPING=1" [ "$(lines STOPPING=1 "$m")" -ge 1 ]

# NotifyAccess=main: systemd drops messages from any other process
eq "every notification came from the daemon's pid" "" \
	"$(awk -v p="$DPID" '$3 != p' "$NLOG" | head -n 3)"
kill "$LISTEN_PID" 2>/dev/null
wait "$LISTEN_PID" 2>/dev/null
LISTEN_PID=

# ---------------------------------------------------------------- seccomp
# Every system call the daemon makes while it starts, serves a signed
# declaration, reloads and stops must be in the unit's filter:
# @system-service minus @privileged and @resources.  A call outside it
# would fail with EPERM under systemd (SystemCallErrorNumber=EPERM).

# syscall_set @GROUP...: the calls of the groups, nested groups expanded
syscall_set() {
	for g in "$@"; do
		systemd-analyze syscall-filter --no-pager "$g" 2>/dev/null |
			awk 'NR > 1 && NF && $1 !~ /^#/ { print $1 }' |
			while read -r c; do
				case $c in @*) syscall_set "$c" ;; *) echo "$c" ;; esac
			done
	done
}

if ! have strace || ! strace -f -qq -o /dev/null true 2>/dev/null; then
	echo "skip: strace missing or ptrace not permitted; system call filter not checked"
	finish; exit
fi
syscall_set @system-service | sort -u >"$WORK/allow"
syscall_set @privileged @resources | sort -u >"$WORK/deny"
comm -23 "$WORK/allow" "$WORK/deny" >"$WORK/filter"
check "the filter is not empty ($(wc -l <"$WORK/filter") calls)" [ -s "$WORK/filter" ]

SOCK2=$TDIR/notify2.sock
"$NOTIFYLISTEN" -t 120 "$SOCK2" >"$TDIR/notify2.log" 2>&1 &
LISTEN_PID=$!
i=0
while [ ! -S "$SOCK2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
# -D: strace runs as a grandchild, so $! is the daemon itself
# (LeakSanitizer cannot run under ptrace: leaks are checked in the other runs)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" NOTIFY_SOCKET=$SOCK2 strace -D -f -qq -o "$WORK/strace.log" \
	"$DECLARED" -c "$TDIR/declared.conf" >>"$TDIR/daemon.log" 2>&1 &
DAEMON_PID=$!
i=0
until curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 "$DAEMON_PID" 2>/dev/null; then break; fi
	sleep 0.1
done
if check "daemon under strace becomes ready" \
	curl -sf -o /dev/null "http://127.0.0.1:$ADMIN_PORT/readyz"; then
	curl -s -o /dev/null "http://127.0.0.1:$ADMIN_PORT/metrics"
	mkdir -p "$TDIR/docs"
	if [ -x "$BUILD/gendecl" ]; then
		"$BUILD/gendecl" --items 3 --lrn SD-SECCOMP-1 --declarant GB000000000001 \
			>"$TDIR/docs/s.xml"
		sign_file "$TDIR/docs/s.xml" "$TDIR/docs/s.signed.xml"
		submit "$TDIR/docs/s.signed.xml"
		eq "declaration under strace -> 202" 202 "$HTTP_CODE"
	else
		echo "skip: $BUILD/gendecl not built, no declaration submitted"
	fi
	# the reload's calls too: until it has logged its end (up to 20 s
	# under strace)
	nr=$(grep -c -e 'msg="reloaded"' -e 'reload failed' "$TDIR/daemon.log")
	kill -HUP "$DAEMON_PID"
	i=0
	while [ "$(grep -c -e 'msg="reloaded"' -e 'reload failed' "$TDIR/daemon.log")" -le "$nr" ] &&
		[ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
fi
kill -TERM "$DAEMON_PID" 2>/dev/null
wait "$DAEMON_PID"
st=$?
DAEMON_PID=
eq "daemon under strace exits 0" 0 "$st"
awk '{ if (match($2, /^[a-z_][a-z0-9_]*\(/)) print substr($2, 1, RLENGTH - 1) }' \
	"$WORK/strace.log" | sort -u >"$WORK/used"
check "strace saw the daemon's calls ($(wc -l <"$WORK/used"))" [ -s "$WORK/used" ]
outside=$(comm -23 "$WORK/used" "$WORK/filter" | tr '\n' ' ')
eq "no system call outside SystemCallFilter" "" "$outside"
for c in $outside; do
	grep -m 2 " $c(" "$WORK/strace.log" | sed 's/^/# /'
done
# RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX.  glibc's getaddrinfo
# (AI_ADDRCONFIG) probes interfaces with a NETLINK_ROUTE socket; refused,
# it assumes both IPv4 and IPv6 (check_pf.c), so that one is harmless.
fams=$(sed -n 's/.* socket(\(AF_[A-Z0-9]*\), [^,]*, \([A-Z_0-9]*\)).*/\1:\2/p' "$WORK/strace.log" |
	sed 's/^\(AF_INET6\{0,1\}\|AF_UNIX\):.*/\1/' | sort -u | tr '\n' ' ')
echo "# socket families: $fams"
eq "socket families within RestrictAddressFamilies" "" \
	"$(echo "$fams" | tr ' ' '\n' | grep -v -x -e '' -e AF_INET -e AF_INET6 -e AF_UNIX \
		-e AF_NETLINK:NETLINK_ROUTE | tr '\n' ' ')"

finish
