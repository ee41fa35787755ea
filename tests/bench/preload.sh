#!/bin/sh
# Bulk-loads historic declarations into the benchmark's database with the
# functions of tests/bench/preload.sql (which says what is loaded and how).
# Used by tests/bench/run.sh (BENCH_PRELOAD=N); on its own:
#   sh tests/bench/preload.sh check N
#       exit 1, saying so, if N declarations would not fit on the
#       database's disk with a margin: N x the bytes per declaration
#       (measured on the template if there is one, else PRELOAD_ROW_BYTES)
#       x 1.25 + 10 GB (WAL, up to max_wal_size = 4 GB twice over, and
#       the rest of the machine)
#   sh tests/bench/preload.sh template [DECLARANT]
#       copy the newest 1,000 declarations that the daemon stored for
#       DECLARANT (default GB000000000001) as the rows to copy
#   sh tests/bench/preload.sh load N
#       add N declarations of 1,000 other declarants, received over the
#       last 12 months (monthly partitions made first), in chunks of
#       PRELOAD_CHUNK (1,000,000) rows, one transaction each; then
#       VACUUM (ANALYZE) the tables and CHECKPOINT.  Prints as its last line:
#         preload: rows=N full=F keys=K current=C load_s=S vacuum_s=S db_bytes=B disk_bytes=B
#       (full: how many of them were stored whole, see PRELOAD_HISTORY;
#       keys: rows of the registry declaration_keys; current: declarations
#       in the current month's partition, the one intake writes;
#       db_bytes: pg_database_size after; disk_bytes: what the data
#       directory, WAL included, grew by)
# PRELOAD_HISTORY says how:
#   full  (default) every declaration whole, as the daemon stores it
#         (~11.5 KB each with the benchmark's 20-item documents)
#   keys  the history as intake meets it, for N that does not fit on the
#         disk whole: one month's worth (N / 12) stored whole in the
#         current month's partitions, received between the month's first
#         day and now (the most a month's partitions hold, at its end), and
#         the other N - N / 12, received in the 11 months before, only as
#         rows of the registry declaration_keys (~200 bytes each).  Intake
#         writes the registry and the current month's partitions and never
#         reads the older ones (bench.load_keys in preload.sql says why),
#         so its indexes and tables are the size N declarations make them
# Environment: PGHOST, PGPORT (the database declared, superuser postgres);
# PRELOAD_CHUNK=1000000, PRELOAD_PARTIES=1000, PRELOAD_COUNTRY=GB (the
# daemon's [customs] country, for the MRNs), PRELOAD_ROW_BYTES=11800,
# PRELOAD_HISTORY=full.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CHUNK=${PRELOAD_CHUNK:-1000000}
PARTIES=${PRELOAD_PARTIES:-1000}
COUNTRY=${PRELOAD_COUNTRY:-GB}
# bytes per declaration copied from the benchmark's 20-item documents
# (all tables, TOAST and indexes): 11,200 measured on 100,000 rows
ROW_BYTES=${PRELOAD_ROW_BYTES:-11800}
# a registry row with its two indexes, counted high (~150 in run H of
# docs/performance.md: 10 M keys)
KEY_BYTES=200
HISTORY=${PRELOAD_HISTORY:-full}
case $HISTORY in full|keys) ;; *) echo "bench: preload: PRELOAD_HISTORY is full or keys" >&2; exit 1;; esac

say() { echo "bench: preload: $*" >&2; }
die() { say "$*"; exit 1; }
sql() { # SQL: run as the superuser, unaligned, tuples only, stop at an error
	psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres -d declared -c "$1"
}
gb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1073741824 }'; }
datadir_kb() { du -sk "$DATADIR" 2>/dev/null | awk '{ print $1 }'; }
free_bytes() { echo $(($(df -Pk "$DATADIR" | awk 'NR == 2 { print $4 }') * 1024)); }

[ $# -ge 1 ] || die "usage: preload.sh check N | template [DECLARANT] | load N"
DATADIR=$(sql "SHOW data_directory") || die "cannot reach the database"

# how many of N declarations are stored whole
full_of() { if [ "$HISTORY" = keys ]; then echo $((($1 + 11) / 12)); else echo "$1"; fi; }

# check N: would N declarations fit?
check() {
	per=
	[ -n "$(sql "SELECT to_regclass('bench.template')")" ] &&
		per=$(sql "SELECT round(avg(pg_column_size(raw) + pg_column_size(ack1) +
			pg_column_size(ack2))) FROM bench.template")
	# the template's TOASTed and compressed columns, and the rest as measured
	# (heap rows, events, the registry, indexes: ~2,500 bytes, counted 3,000)
	if [ -n "$per" ]; then per=$((per + 3000)); else per=$ROW_BYTES; fi
	f=$(full_of "$1")
	est=$(awk -v n="$1" -v f="$f" -v p="$per" -v k="$KEY_BYTES" \
		'BEGIN { printf "%.0f", f * p + (n - f) * k }')
	need=$(awk -v e="$est" 'BEGIN { printf "%.0f", e * 1.25 + 10 * 1073741824 }')
	free=$(free_bytes)
	msg="$1 declarations ($f whole, of ~$per bytes): ~$(gb "$est") GB, $(gb "$need") GB with the margin; $(gb "$free") GB free"
	if [ "$need" -gt "$free" ]; then
		say "$msg: not loading"
		return 1
	fi
	say "$msg"
}

# chunks full|keys N FROM TO: N declarations received from FROM to TO,
# whole (bench.load_chunk) or as registry rows (bench.load_keys), in
# transactions of CHUNK
chunks() {
	first=0
	while [ "$first" -lt "$2" ]; do
		# the disk is shared: stop while 8 GB are still free
		[ "$(free_bytes)" -gt $((8 * 1073741824)) ] ||
			die "less than 8 GB free on the disk: stopping at $first declarations ($1)"
		n=$(($2 - first))
		[ "$n" -le "$CHUNK" ] || n=$CHUNK
		if [ "$1" = keys ]; then
			call="bench.load_keys($first, $n, $2, '$3', '$4', $PARTIES)"
		else
			call="bench.load_chunk($first, $n, $2, '$3', '$4', $PARTIES, '$COUNTRY')"
		fi
		psql -X -q -A -t -v ON_ERROR_STOP=1 -U postgres -d declared >/dev/null <<SQL ||
SET session_replication_role = replica;
SELECT $call;
SQL
			die "chunk at $first ($1) failed"
		first=$((first + n))
		el=$(($(date +%s) - t0))
		say "$1: $first/$2 ($((first * 100 / $2))%) in $el s, $(gb "$(($(datadir_kb) * 1024))") GB on disk"
	done
}

case $1 in
check)
	[ $# = 2 ] || die "usage: preload.sh check N"
	check "$2"
	;;
template)
	PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 \
		-U postgres -d declared -f "$HERE/preload.sql" >/dev/null ||
		die "cannot load $HERE/preload.sql"
	n=$(sql "SELECT bench.make_template('${2:-GB000000000001}', 1000)") ||
		die "cannot make the template"
	[ "$n" -gt 0 ] || die "no released declaration of ${2:-GB000000000001} to copy"
	say "template: $n declarations of ${2:-GB000000000001} as stored by the daemon"
	;;
load)
	[ $# = 2 ] || die "usage: preload.sh load N"
	total=$2
	tn=$(sql "SELECT count(*) FROM bench.template" 2>/dev/null)
	[ "${tn:-0}" -gt 0 ] || die "no template: run preload.sh template first"
	[ "$(sql "SELECT count(*) FROM parties WHERE id LIKE 'GB1%'")" = 0 ] ||
		die "the preload's declarants (GB1...) already have declarations"
	check "$total" || exit 1
	kb0=$(datadir_kb)
	t0=$(date +%s)
	full=$(full_of "$total")
	# received: the last 12 months up to an hour ago (UTC, fixed for all
	# chunks); with history keys, the registry-only rows up to the current
	# month's start and the whole ones from it up to a minute ago
	range=$(sql "SELECT now() - interval '12 months' || '|' ||
		(date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') || '|' ||
		now() - interval '1 minute' || '|' || now() - interval '1 hour'")
	from=${range%%|*}; r=${range#*|}
	month=${r%%|*}; r=${r#*|}
	minute=${r%%|*}
	to=${r#*|}
	made=$(sql "SELECT bench.make_partitions('$from', '$to')") || die "cannot make the partitions"
	if [ "$HISTORY" = keys ]; then
		[ "$(sql "SELECT '$minute'::timestamptz > '$month'::timestamptz")" = t ] ||
			die "the month began less than a minute ago: run again later"
		say "history keys: $((total - full)) declarations received from $from to $month in the registry only, $full whole from $month to $minute ($made monthly partitions made), $CHUNK per transaction"
		chunks keys $((total - full)) "$from" "$month"
		chunks full "$full" "$month" "$minute"
	else
		say "loading $total declarations received from $from to $to ($made monthly partitions made), $CHUNK per transaction"
		chunks full "$total" "$from" "$to"
	fi
	t1=$(date +%s)
	say "VACUUM (ANALYZE) and CHECKPOINT"
	sql "VACUUM (ANALYZE) declaration_keys, declarations, events, acks, parties" ||
		die "VACUUM failed"
	sql "CHECKPOINT" || die "CHECKPOINT failed"
	t2=$(date +%s)
	db=$(sql "SELECT pg_database_size('declared')")
	# what intake will meet: the registry, and the current month's rows
	keys=$(sql "SELECT count(*) FROM declaration_keys")
	cur=$(sql "SELECT count(*) FROM declarations WHERE received_at >= '$month'")
	disk=$((($(datadir_kb) - kb0) * 1024))
	say "$total declarations in $((t1 - t0)) s, vacuum and checkpoint $((t2 - t1)) s; database $(gb "$db") GB, data directory +$(gb "$disk") GB"
	say "registry: $keys keys; current month's partition: $cur declarations"
	echo "preload: rows=$total full=$full keys=$keys current=$cur load_s=$((t1 - t0)) vacuum_s=$((t2 - t1)) db_bytes=$db disk_bytes=$disk"
	;;
*)
	die "usage: preload.sh check N | template [DECLARANT] | load N"
	;;
esac
