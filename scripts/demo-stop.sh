#!/bin/sh
# make demo-stop: stops the demo daemon and its PostgreSQL.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/tests/integration/lib.sh"
trap - EXIT INT TERM
if [ -f "$ROOT/var/declared.pid" ]; then
	kill -TERM "$(cat "$ROOT/var/declared.pid")" 2>/dev/null && echo "demo: daemon stopped"
	rm -f "$ROOT/var/declared.pid"
fi
PGDIR=$ROOT/var/pg; PGBIN=$(pg_bindir)
[ -f "$PGDIR/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast -w stop >/dev/null && echo "demo: PostgreSQL stopped"
exit 0
