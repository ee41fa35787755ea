#!/bin/sh
# Monthly partitions (sql/007_partitions.sql, daemon/maintain.c): the
# partitions of this month and the next ones, intake into the current
# month with duplicates and conflicts answered as before, the upkeep at
# startup, retention (old months detached, kept as tables for the archive,
# their keys forgotten), one upkeep at a time, and the migration of a
# database that already holds rows.
. "$(dirname "$0")/lib.sh"
AUTO_RELEASE=no    # accepted declarations stay open for a decision
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
mkdir -p "$D"
P=GB000000000001
# UTC months: now, next, +3, -14
month() { psql_q "SELECT to_char(date_trunc('month', now() AT TIME ZONE 'UTC') + interval '$1 months', 'YYYY_MM')"; }
M0=$(month 0) M1=$(month 1) M3=$(month 3) M4=$(month 4) MOLD=$(month -14)
# parts TABLE: its attached partitions, one line
parts() {
	psql_q "SELECT string_agg(c.relname, ' ' ORDER BY c.relname) FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = '$1'::regclass"
}
# conf KEY VALUE: set a [database] key of the daemon's configuration
conf() {
	sed -i "/^$1 = /d" "$TDIR/declared.conf"
	sed -i "/^sql_dir = /a $1 = $2" "$TDIR/declared.conf"
}
# wait_log TEXT: until the daemon's log has TEXT (10 s at most)
wait_log() {
	i=0
	until grep -q "$1" "$TDIR/daemon.log" || [ $i -gt 100 ]; do i=$((i + 1)); sleep 0.1; done
	grep -q "$1" "$TDIR/daemon.log"
}

# --- 1. the partitions after the migration of an empty database
for t in declarations events acks; do
	eq "$t: partitions of this month and the next three, and a default" \
		"${t}_$M0 ${t}_$(month 1) ${t}_$(month 2) ${t}_$M3 ${t}_default" "$(parts $t)"
done
eq "the registry of (declarant, LRN) exists, keyed by declarant" "declarant,lrn" \
	"$(psql_q "SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM pg_index x
		CROSS JOIN unnest(x.indkey) WITH ORDINALITY k(n, i)
		JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n
		WHERE x.indrelid = 'declaration_keys'::regclass AND x.indisprimary")"
eq "every key of the three tables includes the declarant or the party" \
	"acks:party,seq,created_at declarations:id,received_at,declarant events:id,at,declarant" \
	"$(psql_q "SELECT string_agg(t, ' ' ORDER BY t) FROM (SELECT c.relname || ':' ||
		string_agg(a.attname, ',' ORDER BY k.i) AS t FROM pg_index x
		JOIN pg_class c ON c.oid = x.indrelid
		CROSS JOIN unnest(x.indkey) WITH ORDINALITY k(n, i)
		JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n
		WHERE c.relname IN ('declarations', 'events', 'acks') AND x.indisunique
		GROUP BY c.relname, x.indexrelid) s")"

# --- 2. the upkeep at startup: a missing partition ahead is created again
psql_q "DROP TABLE declarations_$M3, events_$M3" >/dev/null
daemon_stop
conf maintain_interval 1
daemon_start || not_ok "restart the daemon"
check "the upkeep at startup created declarations_$M3 again (logged)" \
	wait_log "partition created.*table=declarations_$M3"
check "and events_$M3" wait_log "partition created.*table=events_$M3"
eq "declarations: the partitions ahead are back" \
	"declarations_$M0 declarations_$(month 1) declarations_$(month 2) declarations_$M3 declarations_default" \
	"$(parts declarations)"
eq "new partitions are analysed (the planner knows they are empty)" 0 \
	"$(psql_q "SELECT count(*) FROM pg_class WHERE relname IN ('declarations_$M3', 'events_$M3') AND reltuples < 0")"
check "nothing more created at the next upkeeps" sh -c \
	"sleep 2.5; [ \$(grep -c 'partition created' '$TDIR/daemon.log') = 2 ]"
eq "metrics: declared_partitions_created_total = 2" 2 "$(metric declared_partitions_created_total)"
check "metrics: declared_maintain_runs_total >= 2 (startup, then every second)" \
	[ "$(metric declared_maintain_runs_total)" -ge 2 ]
eq "metrics: declared_maintain_failures_total = 0" 0 "$(metric declared_maintain_failures_total)"

# --- 3. intake lands in the current month; duplicates and conflicts as before
"$BUILD/gendecl" --items 3 --lrn PT-1 --declarant $P >"$D/a.xml"
"$BUILD/gendecl" --items 2 --lrn PT-1 --declarant $P --seed 9 >"$D/b.xml"
"$BUILD/gendecl" --items 2 --lrn PT-OLD --declarant $P --seed 3 >"$D/old.xml"
for f in a b old; do sign_file "$D/$f.xml" "$D/$f.s"; done
submit "$D/a.s"
eq "a declaration -> 202" 202 "$HTTP_CODE"
cp "$BODY_FILE" "$D/a.receipt"
ID=$(psql_q "SELECT id FROM declarations WHERE lrn = 'PT-1'")
eq "stored in this month's partitions (declaration, events, acknowledgements)" \
	"declarations_$M0|events_$M0|acks_$M0" \
	"$(psql_q "SELECT (SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM declarations WHERE id = $ID)
		|| '|' || (SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM events WHERE declaration_id = $ID)
		|| '|' || (SELECT string_agg(DISTINCT tableoid::regclass::text, ',') FROM acks WHERE declaration_id = $ID)")"
eq "its key in the registry, with its id and time" "$ID|1" \
	"$(psql_q "SELECT k.id || '|' || (k.received_at = d.received_at)::int FROM declaration_keys k
		JOIN declarations d ON d.id = k.id WHERE k.declarant = '$P' AND k.lrn = 'PT-1'")"
eq "its events carry the declarant" "$P" \
	"$(psql_q "SELECT string_agg(DISTINCT declarant, ',') FROM events WHERE declaration_id = $ID")"
submit "$D/a.s"
eq "same bytes again -> 202" 202 "$HTTP_CODE"
check "same bytes again: the original receipt, byte for byte" cmp -s "$BODY_FILE" "$D/a.receipt"
submit "$D/b.s"
eq "same LRN, other bytes -> 409" 409 "$HTTP_CODE"
eq "409 names LRN_CONFLICT" LRN_CONFLICT "$(rx "$BODY_FILE" "//*[local-name()='ValidationCode']")"
eq "one row, one key for PT-1" "1 1" \
	"$(psql_q "SELECT (SELECT count(*) FROM declarations WHERE lrn = 'PT-1') || ' ' || (SELECT count(*) FROM declaration_keys WHERE lrn = 'PT-1')")"
eq "nothing in the default partitions" "0 0 0" \
	"$(psql_q "SELECT (SELECT count(*) FROM declarations_default) || ' ' || (SELECT count(*) FROM events_default) || ' ' || (SELECT count(*) FROM acks_default)")"
code=$(ocurl -o "$TDIR/dec.json" -w '%{http_code}' -H 'Content-Type: application/json' \
	--data '{"action":"hold","reason":"partition test"}' \
	"https://127.0.0.1:$API_PORT/v1/declarations/$ID/decision")
eq "an officer's decision on it (declared_decide, one partition) -> 200" 200 "$code"
eq "the decision's event carries the declarant, in this month" "$P|events_$M0" \
	"$(psql_q "SELECT declarant || '|' || tableoid::regclass FROM events WHERE declaration_id = $ID AND action = 'hold'")"

# --- 4. retention: a declaration of 14 months ago, its partitions detached
for t in declarations events acks; do
	psql_q "SELECT declared_month_partition('$t', (now() AT TIME ZONE 'UTC') - interval '14 months')" >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 -U postgres -d declared <<SQL || not_ok "insert an old declaration"
BEGIN;
INSERT INTO declarations (id, declarant, lrn, submitter, profile, mrn, status, item_count,
	digest, raw, received_at, updated_at)
VALUES (7, '$P', 'PT-OLD', '$P', 'wco', 'OLDMRN', 'released', 1, '\x00', '\x00',
	now() - interval '14 months', now() - interval '14 months');
INSERT INTO declaration_keys VALUES ('$P', 'PT-OLD', 7, now() - interval '14 months');
INSERT INTO events (declaration_id, declarant, actor, to_status, at)
VALUES (7, '$P', '$P', 'released', now() - interval '14 months');
INSERT INTO acks (party, seq, declaration_id, kind, body, created_at)
VALUES ('$P', 1000, 7, '01', '\x00', now() - interval '14 months');
COMMIT;
SQL
eq "the old rows are in the partitions of their month" \
	"declarations_$MOLD events_$MOLD acks_$MOLD" \
	"$(psql_q "SELECT (SELECT tableoid::regclass FROM declarations WHERE id = 7) || ' ' ||
		(SELECT tableoid::regclass FROM events WHERE declaration_id = 7) || ' ' ||
		(SELECT tableoid::regclass FROM acks WHERE declaration_id = 7)")"
submit "$D/old.s"
eq "before the retention: its LRN with other bytes -> 409" 409 "$HTTP_CODE"
ocurl -o "$TDIR/old.json" "https://127.0.0.1:$API_PORT/v1/declarations/7"
eq "before the retention: its status, from its month's partition" "PT-OLD|released|1|1" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%s|%s|%d|%d" % (d["lrn"], d["status"], len(d["history"]), len(d["acks"])))' "$TDIR/old.json")"
eq "before the retention: its stored document" 200 \
	"$(ocurl -o /dev/null -w '%{http_code}' "https://127.0.0.1:$API_PORT/v1/declarations/7/xml")"
conf retention_months 12
kill -HUP "$DAEMON_PID"
check "SIGHUP: retention_months = 12 reloaded" wait_log 'msg="reloaded"'
check "the upkeep detached declarations_$MOLD (logged)" \
	wait_log "partition detached.*table=declarations_$MOLD"
check "and events_$MOLD" wait_log "partition detached.*table=events_$MOLD"
check "and acks_$MOLD" wait_log "partition detached.*table=acks_$MOLD"
check "the keys forgotten were logged" wait_log "keys forgotten.*table=declarations_$MOLD n=1"
for t in declarations events acks; do
	eq "$t: the old month is no longer a partition" "" \
		"$(parts $t | tr ' ' '\n' | grep "_$MOLD\$")"
	eq "$t: the old month is still a table, with its row, for the archive" "1" \
		"$(psql_q "SELECT count(*) FROM ${t}_$MOLD")"
done
eq "the registry forgot the old key, kept the others" "0 1" \
	"$(psql_q "SELECT (SELECT count(*) FROM declaration_keys WHERE lrn = 'PT-OLD') || ' ' || (SELECT count(*) FROM declaration_keys WHERE lrn = 'PT-1')")"
eq "this month kept: PT-1 and its history readable" "1 2" \
	"$(psql_q "SELECT (SELECT count(*) FROM declarations WHERE lrn = 'PT-1') || ' ' || (SELECT count(*) FROM events WHERE declaration_id = $ID)")"
eq "after the retention: its status -> 404 (detached)" 404 \
	"$(ocurl -o /dev/null -w '%{http_code}' "https://127.0.0.1:$API_PORT/v1/declarations/7")"
eq "metrics: declared_partitions_detached_total = 3" 3 "$(metric declared_partitions_detached_total)"
eq "metrics: declared_retention_keys_forgotten_total = 1" 1 "$(metric declared_retention_keys_forgotten_total)"
submit "$D/old.s"
eq "after the retention its LRN may be used again -> 202" 202 "$HTTP_CODE"
eq "a dump of the detached month restores elsewhere (the archive path)" "1" \
	"$(pg_dump -U postgres -Fc -t "declarations_$MOLD" declared >"$TDIR/arch.dump" &&
	   psql -X -q -U postgres -d postgres -c "CREATE DATABASE archive_check" &&
	   pg_restore -U postgres -d archive_check "$TDIR/arch.dump" &&
	   psql -X -A -t -U postgres -d archive_check -c "SELECT count(*) FROM declarations_$MOLD WHERE lrn = 'PT-OLD'")"
daemon_stop
eq "SIGTERM: exit status 0" 0 "$?"

# --- 5. the function itself (the daemon stopped): one caller at a time,
# bounded work per call, usable by the daemon's role only through it
psql -X -q -U postgres -d declared -c "BEGIN" -c "SELECT declared_maintain(3, 0)" \
	-c "SELECT pg_sleep(3)" -c "COMMIT" >/dev/null &
HOLDER=$!
i=0
until [ "$(psql_q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 1 ] ||
	[ $i -gt 50 ]; do i=$((i + 1)); sleep 0.1; done
eq "a second caller while one works: 'locked', nothing done" "locked" \
	"$(psql_q "SELECT action FROM declared_maintain(3, 0)")"
wait "$HOLDER"
eq "the daemon's role may call it" "0" \
	"$(psql -X -A -t -U declared -d declared -c "SELECT count(*) FROM declared_maintain(3, 0)")"
check "the daemon's role may not create a partition itself" sh -c \
	"! psql -X -q -U declared -d declared -c \"SELECT declared_month_partition('acks', now()::timestamp + interval '9 months')\" 2>/dev/null"
check "nor delete from the registry" sh -c \
	"! psql -X -q -U declared -d declared -c \"DELETE FROM declaration_keys\" 2>/dev/null"
# 25,000 declarations of 20 months ago, forgotten 10,000 a call with no time budget
for t in declarations events acks; do
	psql_q "SELECT declared_month_partition('$t', (now() AT TIME ZONE 'UTC') - interval '20 months')" >/dev/null
done
psql -X -q -v ON_ERROR_STOP=1 -U postgres -d declared <<SQL || not_ok "insert 25,000 old declarations"
INSERT INTO declarations (id, declarant, lrn, submitter, profile, status, item_count,
	digest, raw, received_at)
SELECT 1000000 + g, 'GB9', 'BULK-' || g, 'GB9', 'wco', 'released', 1, '\x00', '\x00',
	now() - interval '20 months' FROM generate_series(1, 25000) g;
INSERT INTO declaration_keys SELECT declarant, lrn, id, received_at FROM declarations WHERE declarant = 'GB9';
SQL
MOLD2=$(month -20)
r1=$(psql_q "SELECT string_agg(action || ':' || COALESCE(n::text, '-'), ' ') FROM declared_maintain(3, 12, 0)")
r2=$(psql_q "SELECT string_agg(action || ':' || COALESCE(n::text, '-'), ' ') FROM declared_maintain(3, 12, 0)")
r3=$(psql_q "SELECT string_agg(action || ':' || COALESCE(n::text, '-'), ' ') FROM declared_maintain(3, 12, 0)")
eq "call 1: 10,000 keys forgotten, more pending" "forgot:10000 pending:-" "$r1"
eq "call 2: 10,000 more, pending" "forgot:10000 pending:-" "$r2"
eq "call 3: the last 5,000, then the month detached" \
	"forgot:5000 detached:- detached:- detached:-" "$r3"
eq "the three tables of that month detached" "acks_$MOLD2 declarations_$MOLD2 events_$MOLD2" \
	"$(psql_q "SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class WHERE relname LIKE '%\_$MOLD2' AND NOT relispartition AND relkind = 'r'")"
eq "no key of GB9 left" 0 "$(psql_q "SELECT count(*) FROM declaration_keys WHERE declarant = 'GB9'")"

# --- 6. a month whose rows went to the default partition is reported, not lost
psql_q "INSERT INTO acks (party, seq, kind, body, created_at) VALUES ('GB8', 1, '01', '\x00', now() + interval '4 months')" >/dev/null
eq "the upkeep cannot create acks_$M4: 'blocked', the others created" \
	"created:declarations_$M4 created:events_$M4 blocked:acks_$M4" \
	"$(psql_q "SELECT string_agg(action || ':' || relation, ' ') FROM declared_maintain(4, 0)")"
eq "the row stays readable" 1 "$(psql_q "SELECT count(*) FROM acks WHERE party = 'GB8'")"
psql_q "DELETE FROM acks WHERE party = 'GB8'" >/dev/null

# --- 7. the migration of a database that already holds rows: 001-006,
# rows in two months, then 007
psql -X -q -U postgres -d postgres -c "CREATE DATABASE declared_old" >/dev/null
mkdir -p "$TDIR/sql6"
for f in "$ROOT"/sql/00[1-6]_*.sql; do ln -s "$f" "$TDIR/sql6/"; done
write_config "$TDIR/old.conf" postgres
sed -i "s/dbname=declared /dbname=declared_old /; s#^sql_dir = .*#sql_dir = $TDIR/sql6#" "$TDIR/old.conf"
"$DECLARED" --migrate -c "$TDIR/old.conf" >"$TDIR/old-migrate.log" 2>&1 ||
	not_ok "migrate 001-006"
oq() { psql -X -q -A -t -U postgres -d declared_old -c "$1"; }
eq "001-006 applied, no partitions yet" "006_origins.sql|f" \
	"$(oq "SELECT max(name) FROM schema_migrations")|$(oq "SELECT relkind = 'p' FROM pg_class WHERE relname = 'declarations'")"
psql -X -q -v ON_ERROR_STOP=1 -U postgres -d declared_old >/dev/null <<'SQL' || not_ok "store rows in the old schema"
SELECT declared_store(g, 'GB1', 'M-' || g, 'GB1', NULL, 'wco', '9', 'IM', 'MRN' || g,
	'accepted', 'green', NULL, 1, '{8517130000}', '{CN}', '10', 'EUR',
	sha256(g::text::bytea), g::text::bytea, NULL, '01', ('receipt ' || g)::bytea,
	CASE WHEN g % 2 = 0 THEN 'released' END, 'auto', '08', ('release ' || g)::bytea)
  FROM generate_series(1, 40) g;
SELECT declared_decide(3, '{accepted}', 'held', 'OFF1', 'hold', 'x', '16', '\x16');
INSERT INTO declarations (id, declarant, lrn, submitter, profile, status, item_count,
	digest, raw, received_at)
VALUES (41, 'GB1', 'M-OLD', 'GB1', 'wco', 'accepted', 1, '\x41', '\x41', now() - interval '2 months');
INSERT INTO events (declaration_id, actor, to_status, at) VALUES (41, 'GB1', 'accepted', now() - interval '2 months');
INSERT INTO acks (party, seq, declaration_id, kind, body, created_at)
VALUES ('GB1', 1000, 41, '01', '\x41', now() - interval '2 months');
SQL
SUM="SELECT md5(string_agg(t, ',' ORDER BY t)) FROM (
	SELECT d::text AS t FROM declarations d UNION ALL
	SELECT (e.id, e.declaration_id, e.at, e.actor, e.from_status, e.to_status, e.reason, e.action)::text FROM events e UNION ALL
	SELECT a::text FROM acks a) x"
BEFORE=$(oq "$SUM")
COUNTS="SELECT (SELECT count(*) FROM declarations) || ' ' || (SELECT count(*) FROM events) || ' ' || (SELECT count(*) FROM acks)"
eq "the old schema holds 41 declarations, 62 events, 62 acknowledgements" "41 62 62" "$(oq "$COUNTS")"
sed -i "s#^sql_dir = .*#sql_dir = $ROOT/sql#" "$TDIR/old.conf"
"$DECLARED" --migrate -c "$TDIR/old.conf" >>"$TDIR/old-migrate.log" 2>&1 ||
	{ not_ok "migrate to 007"; cat "$TDIR/old-migrate.log"; }
check "007 applied" grep -q 'migration applied.*007_partitions.sql' "$TDIR/old-migrate.log"
eq "declarations partitioned" p "$(oq "SELECT relkind FROM pg_class WHERE relname = 'declarations'")"
eq "every row kept, unchanged" "$BEFORE" "$(oq "$SUM")"
eq "same counts" "41 62 62" "$(oq "$COUNTS")"
eq "the old month has its partitions, the rows are in them, none in DEFAULT" \
	"declarations_$(month -2)|0 0 0" \
	"$(oq "SELECT tableoid::regclass FROM declarations WHERE id = 41")|$(oq "SELECT (SELECT count(*) FROM declarations_default) || ' ' || (SELECT count(*) FROM events_default) || ' ' || (SELECT count(*) FROM acks_default)")"
eq "the registry has every key" "41 0" \
	"$(oq "SELECT count(*) || ' ' || count(*) FILTER (WHERE k.received_at <> d.received_at OR k.id <> d.id) FROM declarations d JOIN declaration_keys k USING (declarant, lrn)")"
eq "the events got their declarant" "GB1 62" \
	"$(oq "SELECT string_agg(DISTINCT declarant, ',') || ' ' || count(*) FROM events")"
eq "a row stored before: same bytes -> its original receipt" "duplicate|2|receipt 2" \
	"$(oq "SELECT outcome || '|' || ack_seq || '|' || convert_from(receipt, 'UTF8') FROM declared_store(999, 'GB1', 'M-2', 'GB1', NULL, 'wco', '9', 'IM', 'X', 'accepted', 'green', NULL, 1, '{}', '{}', '1', 'EUR', sha256('2'::bytea), '2'::bytea, NULL, '01', 'r'::bytea, NULL, NULL, NULL, NULL)")"
eq "a row stored before: other bytes -> conflict" "conflict" \
	"$(oq "SELECT outcome FROM declared_store(999, 'GB1', 'M-2', 'GB1', NULL, 'wco', '9', 'IM', 'X', 'accepted', 'green', NULL, 1, '{}', '{}', '1', 'EUR', sha256('x'::bytea), 'x'::bytea, NULL, '01', 'r'::bytea, NULL, NULL, NULL, NULL)")"
eq "the old month's row: same bytes -> its original receipt" "duplicate|1000" \
	"$(oq "SELECT outcome || '|' || ack_seq FROM declared_store(999, 'GB1', 'M-OLD', 'GB1', NULL, 'wco', '9', 'IM', 'X', 'accepted', 'green', NULL, 1, '{}', '{}', '1', 'EUR', '\x41', '\x41', NULL, '01', 'r'::bytea, NULL, NULL, NULL, NULL)")"
eq "a new one is stored in this month" "new|declarations_$M0" \
	"$(oq "SELECT outcome FROM declared_store(999, 'GB1', 'M-NEW', 'GB1', NULL, 'wco', '9', 'IM', 'X', 'accepted', 'green', NULL, 1, '{}', '{}', '1', 'EUR', '\x99', '\x99', NULL, '01', 'r'::bytea, NULL, NULL, NULL, NULL)")|$(oq "SELECT tableoid::regclass FROM declarations WHERE id = 999")"
eq "a decision on a migrated row (declared_decide)" "done|released" \
	"$(oq "SELECT outcome || '|' || state FROM declared_decide(3, '{held}', 'released', 'OFF1', 'release', 'y', '08', '\x08')")"
check "events stay append-only: DELETE refused" sh -c \
	"! psql -X -q -U postgres -d declared_old -c 'DELETE FROM events WHERE declaration_id = 3' 2>/dev/null"
eq "events stay append-only: its three events kept" 3 "$(oq "SELECT count(*) FROM events WHERE declaration_id = 3")"
oq "TRUNCATE declarations, events, acks, parties CASCADE" >/dev/null 2>&1
eq "TRUNCATE of the declarations empties the registry" 0 "$(oq "SELECT count(*) FROM declaration_keys")"
eq "after TRUNCATE an LRN is new again" new \
	"$(oq "SELECT outcome FROM declared_store(1, 'GB1', 'M-1', 'GB1', NULL, 'wco', '9', 'IM', 'X', 'accepted', 'green', NULL, 1, '{}', '{}', '1', 'EUR', '\x01', '\x01', NULL, '01', 'r'::bytea, NULL, NULL, NULL, NULL)")"
finish
