#!/bin/sh
# declared_store_batch() (sql/008) against declared_store(): the same
# scenario stored both ways (namespace B- by the batch function, S- one call
# per declaration) must give the same outcomes, sequence numbers, receipts
# and rows; duplicates and conflicts inside one batch; forbidden submitters
# and signers; dense acknowledgement numbers with no gap across two
# concurrent batches of one party; no deadlock between two batches naming
# the same parties in opposite orders; arrays of different lengths refused.
# Then through the daemon: copies of one declaration and a conflicting one
# submitted at once land in one batch: one stored, the copies get its
# receipt, the other 409.
. "$(dirname "$0")/lib.sh"
TDIR=$(mktemp -d /tmp/declared-it.XXXXXX)
chmod 755 "$TDIR"
trap teardown_all EXIT INT TERM
pg_start "$TDIR/pg" || { echo "PostgreSQL did not start"; echo "0 passed, 1 failed"; exit 1; }
"$DECLCTL" pki init "$TDIR/pki" >/dev/null || { echo "pki init failed"; echo "0 passed, 1 failed"; exit 1; }
API_PORT=$(free_port)
ADMIN_PORT=$(free_port)
write_config "$TDIR/migrate.conf" postgres
"$DECLARED" --migrate -c "$TDIR/migrate.conf" >"$TDIR/migrate.log" 2>&1 ||
	{ cat "$TDIR/migrate.log"; echo "0 passed, 1 failed"; exit 1; }
psql_q "CREATE ROLE declared LOGIN IN ROLE declared_writer" >/dev/null

# as the daemon's role (the grants are part of what is tested)
wq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -U declared -d declared -c "$1"; }

# Helpers (as the superuser, in a schema of their own): t_batch stores its
# rows through declared_store_batch, t_single the same rows through one
# declared_store() call each, in order.  A row: id, declarant, lrn,
# submitter, signer, digest (hex), automatic release.  Everything else is
# derived from those so that the two namespaces store identical content.
psql -X -q -v ON_ERROR_STOP=1 -U postgres -d declared >"$TDIR/helpers.log" 2>&1 <<'SQL' ||
CREATE SCHEMA t;
GRANT USAGE ON SCHEMA t TO declared;
CREATE TYPE t.row AS (id bigint, decl text, lrn text, sub text, sig text,
	dig text, rel boolean);
CREATE FUNCTION t.batch(r t.row[])
RETURNS TABLE (idx integer, outcome text, declaration_id bigint, ack_seq bigint,
	receipt bytea)
LANGUAGE sql AS $$
	SELECT b.* FROM (SELECT
		array_agg(x.id ORDER BY o) AS id, array_agg(x.decl ORDER BY o) AS decl,
		array_agg(x.lrn ORDER BY o) AS lrn, array_agg(x.sub ORDER BY o) AS sub,
		array_agg(x.sig ORDER BY o) AS sig,
		array_agg('wco'::text ORDER BY o) AS prof,
		array_agg('9'::text ORDER BY o) AS func,
		array_agg('IM'::text ORDER BY o) AS typ,
		array_agg('MRN-' || x.lrn ORDER BY o) AS mrn,
		array_agg('accepted'::text ORDER BY o) AS st,
		array_agg('green'::text ORDER BY o) AS lane,
		array_agg(CASE WHEN x.dig = 'ab' THEN 'rule R1' END ORDER BY o) AS lr,
		array_agg(2 ORDER BY o) AS items,
		array_agg('{0101,0202}'::text ORDER BY o) AS hs,
		array_agg(CASE WHEN x.dig = 'ab' THEN NULL ELSE '{CN}' END ORDER BY o) AS orig,
		array_agg(CASE WHEN x.dig = 'cc' THEN 'x' ELSE '10.50' END ORDER BY o) AS amt,
		array_agg('EUR'::text ORDER BY o) AS cur,
		array_agg(decode(x.dig, 'hex') ORDER BY o) AS dig,
		array_agg(convert_to('doc ' || x.lrn || ' ' || x.dig, 'UTF8') ORDER BY o) AS raw,
		array_agg(CASE WHEN x.dig = 'cc' THEN '[{"rule":"R9"}]' END ORDER BY o) AS err,
		array_agg('29'::text ORDER BY o) AS k1,
		array_agg(convert_to('receipt ' || x.lrn || ' ' || x.dig, 'UTF8') ORDER BY o) AS b1,
		array_agg(CASE WHEN x.rel THEN 'released' END ORDER BY o) AS st2,
		array_agg(CASE WHEN x.rel THEN 'green lane' END ORDER BY o) AS r2,
		array_agg(CASE WHEN x.rel THEN '01' END ORDER BY o) AS k2,
		array_agg(CASE WHEN x.rel THEN convert_to('release ' || x.lrn, 'UTF8') END
			ORDER BY o) AS b2
	  FROM unnest(r) WITH ORDINALITY AS x(id, decl, lrn, sub, sig, dig, rel, o)) a,
	 declared_store_batch(a.id, a.decl, a.lrn, a.sub, a.sig, a.prof, a.func,
		a.typ, a.mrn, a.st, a.lane, a.lr, a.items, a.hs, a.orig, a.amt, a.cur,
		a.dig, a.raw, a.err, a.k1, a.b1, a.st2, a.r2, a.k2, a.b2) b
$$;
CREATE FUNCTION t.single(r t.row[])
RETURNS TABLE (idx integer, outcome text, declaration_id bigint, ack_seq bigint,
	receipt bytea)
LANGUAGE plpgsql AS $$
DECLARE
	x t.row;
	i integer := 0;
BEGIN
	FOREACH x IN ARRAY r LOOP
		i := i + 1;
		RETURN QUERY SELECT i, s.* FROM declared_store(x.id, x.decl, x.lrn,
			x.sub, x.sig, 'wco', '9', 'IM', 'MRN-' || x.lrn, 'accepted', 'green',
			CASE WHEN x.dig = 'ab' THEN 'rule R1' END, 2, '{0101,0202}',
			CASE WHEN x.dig = 'ab' THEN NULL ELSE '{CN}'::text[] END,
			CASE WHEN x.dig = 'cc' THEN 'x' ELSE '10.50' END, 'EUR',
			decode(x.dig, 'hex'), convert_to('doc ' || x.lrn || ' ' || x.dig, 'UTF8'),
			CASE WHEN x.dig = 'cc' THEN '[{"rule":"R9"}]'::jsonb END, '29',
			convert_to('receipt ' || x.lrn || ' ' || x.dig, 'UTF8'),
			CASE WHEN x.rel THEN 'released' END, CASE WHEN x.rel THEN 'green lane' END,
			CASE WHEN x.rel THEN '01' END,
			CASE WHEN x.rel THEN convert_to('release ' || x.lrn, 'UTF8') END) s;
	END LOOP;
END
$$;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA t TO declared;
-- X4 represents X1; X5 did, until yesterday
INSERT INTO representations (agent, principal) VALUES ('B-X4', 'B-X1'), ('S-X4', 'S-X1');
INSERT INTO representations (agent, principal, valid_from, valid_to) VALUES
	('B-X5', 'B-X1', now() - interval '2 days', now() - interval '1 day'),
	('S-X5', 'S-X1', now() - interval '2 days', now() - interval '1 day');
SQL
	{ cat "$TDIR/helpers.log"; echo "0 passed, 1 failed"; exit 1; }

# rows NS BASE FILE: the t.row[] literal of the rows in FILE for namespace NS
rows() {
	awk -v ns="$1" -v base="$2" '
	function p(x) { return x == "-" ? "NULL" : "\x27" ns "-" x "\x27" }
	NF == 7 { printf "%s(%d,%s,\x27%s\x27,%s,%s,\x27%s\x27,%s)::t.row",
		n++ ? "," : "ARRAY[", base + $1, p($2), $3, p($4), p($5), $6, $7 == "t" ? "true" : "false" }
	END { printf "]" }' "$3"
}
# id declarant lrn submitter signer digest release ("-" = NULL)
cat >"$TDIR/batch1" <<'ROWS'
1 X1 L1 X1 - aa t
2 X1 L2 X1 X1 bb t
3 X1 L3 X1 - cc f
4 X1 L1 X1 - aa t
5 X1 L2 X1 - ff t
6 X1 L4 X2 - dd t
7 X1 L4 X1 X3 dd t
8 X1 L4 X4 - dd t
9 X2 M1 X2 - ee f
10 X1 L5 X1 X4 ab f
11 X1 L5 X1 - ab f
ROWS
cat >"$TDIR/batch2" <<'ROWS'
12 X1 L1 X1 - aa t
13 X1 L3 X1 - 00 t
14 X1 L4 X4 - dd t
15 X1 L6 X1 - 12 t
16 X2 M1 X2 - ee t
17 X1 L7 X5 - 13 t
18 X1 L7 X1 - 13 t
ROWS
# one transaction per batch for both; t.single sees the same order
out() { # NS BASE FILE FUNC: idx outcome id-BASE seq receipt
	wq "SELECT idx, outcome, declaration_id - $2, ack_seq, convert_from(receipt, 'UTF8')
	    FROM t.$4($(rows "$1" "$2" "$3")) ORDER BY idx"
}
B1=$(out B 1000 "$TDIR/batch1" batch)
S1=$(out S 2000 "$TDIR/batch1" single)
B2=$(out B 1000 "$TDIR/batch2" batch)
S2=$(out S 2000 "$TDIR/batch2" single)
eq "batch 1: the expected outcomes" \
"1|new|1|1|
2|new|2|3|
3|new|3|5|
4|duplicate|1|1|receipt L1 aa
5|conflict|2||
6|forbidden_submitter|||
7|forbidden_signer|||
8|new|8|1|
9|new|9|1|
10|new|10|6|
11|duplicate|10|6|receipt L5 ab" "$B1"
eq "batch 2: the expected outcomes" \
"1|duplicate|1|1|receipt L1 aa
2|conflict|3||
3|duplicate|8|1|receipt L4 dd
4|new|15|7|
5|duplicate|9|1|receipt M1 ee
6|forbidden_submitter|||
7|new|18|9|" "$B2"
eq "batch 1: the same answers as declared_store one by one" "$S1" "$B1"
eq "batch 2: the same answers as declared_store one by one" "$S2" "$B2"

# the rows themselves, namespace and id base taken out
dump() { # NS BASE
	wq "SELECT 'd', id - $2, replace(declarant, '$1-', ''), lrn,
	        replace(submitter, '$1-', ''), replace(signer, '$1-', ''), profile,
	        function_code, type_code, mrn, status, lane, lane_reason, item_count,
	        hs_codes, origins, invoice_amount, currency, encode(digest, 'hex'),
	        convert_from(raw, 'UTF8'), errors, version
	      FROM declarations WHERE declarant LIKE '$1-%' ORDER BY id"
	wq "SELECT 'k', replace(declarant, '$1-', ''), lrn, id - $2,
	        received_at = (SELECT received_at FROM declarations d WHERE d.id = k.id)
	      FROM declaration_keys k WHERE declarant LIKE '$1-%' ORDER BY id"
	wq "SELECT 'e', declaration_id - $2, replace(declarant, '$1-', ''),
	        replace(actor, '$1-', ''), from_status,
	        to_status, reason
	      FROM events WHERE declaration_id IN
	        (SELECT id FROM declarations WHERE declarant LIKE '$1-%') ORDER BY id"
	wq "SELECT 'a', replace(party, '$1-', ''), seq, declaration_id - $2, kind,
	        convert_from(body, 'UTF8')
	      FROM acks WHERE party LIKE '$1-%' ORDER BY party, seq"
	wq "SELECT 'p', replace(id, '$1-', ''), ack_seq FROM parties
	     WHERE id LIKE '$1-%' ORDER BY id"
}
dump B 1000 >"$TDIR/dump.B"
dump S 2000 >"$TDIR/dump.S"
check "the stored rows are those declared_store stores ($(wc -l <"$TDIR/dump.B") lines)" \
	sh -c "[ -s '$TDIR/dump.B' ] && cmp -s '$TDIR/dump.S' '$TDIR/dump.B'"
[ -n "${VERBOSE:-}" ] && diff "$TDIR/dump.S" "$TDIR/dump.B"
eq "X1's acknowledgements: 1..10 with no gap, receipt before release" \
	"1:29 2:01 3:29 4:01 5:29 6:29 7:29 8:01 9:29 10:01" \
	"$(grep '^a|X1|' "$TDIR/dump.B" | awk -F'|' '{ printf "%s%s:%s", n++ ? " " : "", $3, $5 }')"
eq "parties.ack_seq is the last number given" "p|X1|10 p|X2|1 p|X4|2" \
	"$(grep '^p|' "$TDIR/dump.B" | tr '\n' ' ' | sed 's/ $//')"

# a declaration stored by declared_store, re-sent in a batch
eq "a duplicate of a declaration stored by declared_store: its receipt" \
	"1|duplicate|1|1|receipt L1 aa" \
	"$(printf '1 X1 L1 X1 - aa t\n' >"$TDIR/one"; out S 2000 "$TDIR/one" batch)"

# two concurrent batches of one party: dense numbers, in commit order
gen() { # FIRST_ID N LRN_PREFIX: N rows of party C1 with release
	awk -v f="$1" -v n="$2" -v l="$3" 'BEGIN { for (i = 0; i < n; i++)
		printf "%d C1 %s%d C1 - %02x t\n", f + i, l, i, i % 256 }'
}
gen 100 150 P >"$TDIR/c1"
gen 300 150 Q >"$TDIR/c2"
conc() { # FILE AFTER_FIRST HOLD: AFTER_FIRST 1 waits until another batch
	# holds its transaction open (in pg_sleep), so that it surely came first
	if [ "$2" = 1 ]; then
		i=0
		until [ "$(psql_q "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'
			AND query LIKE 'SELECT pg_sleep(%'")" = 1 ] || [ $i -gt 200 ]; do
			i=$((i + 1)); sleep 0.05
		done
	fi
	psql -X -q -A -t -v ON_ERROR_STOP=1 -U declared -d declared <<SQL
BEGIN;
SELECT count(*) FILTER (WHERE outcome = 'new') FROM t.batch($(rows C 0 "$1"));
SELECT pg_sleep($3);
COMMIT;
SQL
}
conc "$TDIR/c1" 0 1.5 >"$TDIR/c1.out" 2>&1 &
P1=$!
conc "$TDIR/c2" 1 0 >"$TDIR/c2.out" 2>&1 &
P2=$!
wait "$P1"; r1=$?
wait "$P2"; r2=$?
eq "two concurrent batches of one party both commit" "0 0 150 150" \
	"$r1 $r2 $(head -n 1 "$TDIR/c1.out") $(head -n 1 "$TDIR/c2.out")"
eq "their 600 acknowledgements are numbered 1..600 with no gap" "600|1|600|600" \
	"$(wq "SELECT count(DISTINCT seq), min(seq), max(seq),
	          (SELECT ack_seq FROM parties WHERE id = 'C-C1') FROM acks WHERE party = 'C-C1'")"
eq "the batch that committed first has the lower numbers" "1 300 301 600" \
	"$(wq "SELECT min(seq) FILTER (WHERE declaration_id < 300),
	          max(seq) FILTER (WHERE declaration_id < 300),
	          min(seq) FILTER (WHERE declaration_id >= 300),
	          max(seq) FILTER (WHERE declaration_id >= 300)
	     FROM acks WHERE party = 'C-C1'" | tr '|' ' ')"
eq "each declaration's receipt comes just before its release" 0 \
	"$(wq "SELECT count(*) FROM acks r JOIN acks l ON l.declaration_id = r.declaration_id
	        AND l.kind = '01' WHERE r.kind = '29' AND r.party = 'C-C1'
	        AND l.seq <> r.seq + 1")"

# two batches naming the same two parties in opposite orders, held open
printf '500 D2 A D2 - 01 t\n501 D1 A D1 - 02 t\n' >"$TDIR/d1"
printf '502 D1 B D1 - 03 t\n503 D2 B D2 - 04 t\n' >"$TDIR/d2"
conc "$TDIR/d1" 0 1 >"$TDIR/d1.out" 2>&1 &
P1=$!
conc "$TDIR/d2" 1 0 >"$TDIR/d2.out" 2>&1 &
P2=$!
wait "$P1"; r1=$?
wait "$P2"; r2=$?
eq "parties in opposite orders: no deadlock, both commit" "0 0 2 2" \
	"$r1 $r2 $(head -n 1 "$TDIR/d1.out") $(head -n 1 "$TDIR/d2.out")"
eq "... numbered 1..4 for each party" "C-D1:1,2,3,4 C-D2:1,2,3,4" \
	"$(wq "SELECT party || ':' || string_agg(seq::text, ',' ORDER BY seq) FROM acks
	     WHERE party IN ('C-D1', 'C-D2') GROUP BY party ORDER BY party" | tr '\n' ' ' | sed 's/ $//')"

# arrays of different lengths
E=$(wq "SELECT * FROM declared_store_batch('{1,2}', '{a}', '{a}', '{a}', '{NULL}',
	'{w}', '{NULL}', '{NULL}', '{NULL}', '{s}', '{NULL}', '{NULL}', '{1}', '{\"{}\"}',
	'{NULL}', '{NULL}', '{NULL}', '{\"\\\\x00\"}', '{\"\\\\x00\"}', '{NULL}', '{k}',
	'{\"\\\\x00\"}', '{NULL}', '{NULL}', '{NULL}', '{NULL}')" 2>&1)
case $E in *"arrays of different lengths"*) ok "arrays of different lengths are refused" ;;
*) not_ok "arrays of different lengths are refused (got: $E)" ;; esac
eq "... and store nothing" 0 "$(wq "SELECT count(*) FROM declaration_keys WHERE declarant = 'a'")"
eq "an empty batch answers nothing" 0 "$(wq "SELECT count(*) FROM declared_store_batch('{}', '{}',
	'{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}',
	'{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')")"

# ---- through the daemon: one batch holding copies and a conflict -------------
# shellcheck disable=SC2034 # read by write_config (lib.sh)
BATCH_DELAY=1000 # everything below arrives within one batch's delay
write_config "$TDIR/declared.conf" declared
daemon_start || { not_ok "the daemon starts"; finish; exit 1; }
D=$TDIR/docs
mkdir -p "$D"
"$BUILD/gendecl" --items 3 --lrn SB-1 --declarant GB000000000001 >"$D/a.xml"
"$BUILD/gendecl" --items 4 --lrn SB-1 --declarant GB000000000001 --seed 7 >"$D/b.xml"
"$BUILD/gendecl" --items 2 --lrn SB-2 --declarant GB000000000001 --seed 9 >"$D/c.xml"
for f in a b c; do sign_file "$D/$f.xml" "$D/$f.signed.xml"; done
URL=https://127.0.0.1:$API_PORT/v1/declarations
PIDS=
for k in a1 a2 a3 b1 c1; do
	ecurl -o "$D/$k.resp" -w '%{http_code}' -H 'Content-Type: application/xml' \
		--data-binary @"$D/$(echo "$k" | cut -c1).signed.xml" "$URL" >"$D/$k.code" &
	PIDS="$PIDS $!"
done
# shellcheck disable=SC2086
wait $PIDS # not the daemon
eq "one batch committed for the five" 1 "$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" |
	awk '$1 == "declared_batch_commits_total" { print $2 }')"
STORED=$(psql_q "SELECT encode(digest, 'hex') FROM declarations WHERE lrn = 'SB-1'")
if [ "$STORED" = "$(sha256sum <"$D/a.signed.xml" | cut -d' ' -f1)" ]; then
	W="a1 a2 a3" L="b1"
else
	W="b1" L="a1 a2 a3"
fi
eq "SB-1: one row, one of the two contents" 1 \
	"$(psql_q "SELECT count(*) FROM declarations WHERE lrn = 'SB-1'")"
codes() { for k in "$@"; do cat "$D/$k.code"; echo; done | sort -u | tr '\n' ' '; }
# shellcheck disable=SC2086 # word lists
eq "SB-1: 202 for each copy of the stored content ($W), 409 for the other ($L)" \
	"202 |409 " "$(codes $W)|$(codes $L)"
# shellcheck disable=SC2086
eq "the copies all got the same receipt" 1 \
	"$(for k in $W; do sha256sum <"$D/$k.resp"; done | sort -u | wc -l)"
eq "... the one stored" "$(psql_q "SELECT encode(sha256(a.body), 'hex') FROM acks a
	JOIN declarations d ON d.id = a.declaration_id WHERE d.lrn = 'SB-1' AND a.kind = '01'")" \
	"$(sha256sum <"$D/${W%% *}.resp" | cut -d' ' -f1)"
eq "SB-2 stored (202)" 202 "$(cat "$D/c1.code")"
eq "the party's acknowledgements: 1..4, each receipt before its release" "1:01 2:08 3:01 4:08" \
	"$(psql_q "SELECT string_agg(seq || ':' || kind, ' ' ORDER BY seq) FROM acks
	     WHERE party = 'GB000000000001'")"
daemon_stop
eq "SIGTERM: exit status 0" 0 "$?"
finish
