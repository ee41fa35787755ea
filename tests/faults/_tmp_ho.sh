BUILD=/tmp/fw/b
. /work/main/tests/integration/lib.sh
READ_TIMEOUT=5
setup_all >/dev/null || exit 1
ulimit -n 65536
$BUILD/faultattack halfopen --port $API_PORT --n 1500 --seconds 12 &
sleep 8
echo "daemon fds: $(ls /proc/$DAEMON_PID/fd | wc -l)"
ss -tnp state established "( sport = :$API_PORT )" | head -5
wait
echo "daemon fds after: $(ls /proc/$DAEMON_PID/fd | wc -l)"
