#!/bin/sh
# Officers: who may do what, every search filter against SQL ground truth,
# keyset paging while declarations arrive, decisions through the lifecycle
# with signed acknowledgements in the enterprise's feed, two officers (on
# two daemon instances) deciding at once, stats, declctl, and the query
# plans of every supported search on one million declarations.
#   SEARCH_ROWS  rows of the plan test (default 1000000; 0 skips it)
#   PLANS_OUT    also write the plans and timings to this file
. "$(dirname "$0")/lib.sh"
RISK_RULES_TEXT=$(printf '# test lanes\nhs 9301 red\norigin KP yellow\n')
AUTO_RELEASE=no
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
mkdir -p "$D"
BASE=https://127.0.0.1:$API_PORT
officer_cert officer2 OFF0002 || not_ok "issue officer2"
officer_cert super SUP0001 supervisor || not_ok "make the supervisor certificate"

# o.py: paging through the search API as some certificate
cat >"$TDIR/o.py" <<'PY'
import json, ssl, subprocess, sys, urllib.parse, http.client
tdir, port, cert, query, limit = sys.argv[1:6]
hook = sys.argv[6] if len(sys.argv) > 6 else None
ctx = ssl.create_default_context(cafile=tdir + "/pki/ca.pem")
ctx.load_cert_chain(tdir + "/pki/" + cert + ".pem", tdir + "/pki/" + cert + ".key")
conn = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx)
ids, cursor, pages = [], None, 0
while True:
    q = dict(urllib.parse.parse_qsl(query))
    q["limit"] = limit
    if cursor:
        q["cursor"] = cursor
    conn.request("GET", "/v1/declarations?" + urllib.parse.urlencode(q))
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        print("HTTP", r.status, body.decode()[:200], file=sys.stderr)
        sys.exit(1)
    page = json.loads(body)
    assert page["count"] == len(page["items"]) <= int(limit)
    ids += [d["id"] for d in page["items"]]
    pages += 1
    cursor = page["next_cursor"]
    if pages == 1 and hook:
        subprocess.run(hook, shell=True, check=True)
    if not cursor or pages > 10000:
        break
print("\n".join(ids))
print("pages", pages, file=sys.stderr)
PY
# api_ids QUERY [LIMIT [HOOK]]: every id the search returns, page by page
api_ids() { python3 "$TDIR/o.py" "$TDIR" "$API_PORT" officer "$1" "${2:-7}" ${3:+"$3"}; }
# sql_ids WHERE: the same from SQL, in the same order
sql_ids() { psql_q "SELECT id FROM declarations d WHERE $1 ORDER BY received_at DESC, id DESC"; }
# code CURL-ARGS...: the HTTP status only
code() { "$@" -o "$TDIR/body.json" -w '%{http_code}'; }

# --- data: declarations of two declarants, three lanes, many codes
psql_q "INSERT INTO representations (agent, principal) VALUES ('GB000000000001', 'GB000000000002')" >/dev/null
"$BUILD/gendecl" --items 3 --count 16 --seed 1 --out "$D/a" --declarant GB000000000001 --lrn OFA >/dev/null
"$BUILD/gendecl" --items 2 --count 8 --seed 40 --out "$D/b" --declarant GB000000000002 --lrn OFB >/dev/null
for f in "$D"/a/decl-00000[1-3].xml; do   # red: an item in HS 9301
	perl -0pi -e 's#(<Classification>\s*<ID>)[0-9]+#${1}9301100000#' "$f"
done
for f in "$D"/b/decl-00000[1-2].xml; do   # yellow: an origin KP
	perl -0pi -e 's#(<Origin>\s*<CountryCode>)[A-Z]+#${1}KP#' "$f"
done
bad=0
for f in "$D"/a/*.xml "$D"/b/*.xml; do
	sign_file "$f" "$f.s" && submit "$f.s"
	[ "$HTTP_CODE" = 202 ] || bad=$((bad + 1))
done
eq "24 declarations submitted" 0 "$bad"
eq "the batcher stores each declaration's item origins (as a set, equal to the document's)" "" \
	"$(psql_q "SELECT string_agg(lrn, ',') FROM declarations WHERE (SELECT array_agg(o ORDER BY o) FROM unnest(origins) o) IS DISTINCT FROM (SELECT array_agg(DISTINCT x::text ORDER BY x::text) FROM unnest(xpath('//*[local-name()=''Origin'']/*[local-name()=''CountryCode'']/text()', convert_from(raw, 'UTF8')::xml)) x)")"
check "origins stored in order of first appearance, distinct" sh -c \
	"[ \"\$(psql -X -A -t -U postgres -d declared -c \"SELECT count(*) FROM declarations WHERE cardinality(origins) = 0 OR cardinality(origins) <> (SELECT count(DISTINCT o) FROM unnest(origins) o)\")\" = 0 ]"
eq "lanes as the risk rules say" "green 19|red 3|yellow 2" \
	"$(psql_q "SELECT lane || ' ' || count(*) FROM declarations GROUP BY lane ORDER BY lane" | paste -sd'|' -)"

# --- 1. authorisation
eq "enterprise cannot search (403)" 403 "$(code ecurl "$BASE/v1/declarations")"
eq "enterprise cannot search: ROLE_FORBIDDEN" ROLE_FORBIDDEN "$(jget error "$TDIR/body.json")"
ANY=$(psql_q "SELECT id FROM declarations WHERE status = 'accepted' LIMIT 1")
eq "enterprise cannot decide (403)" 403 "$(code ecurl -H 'Content-Type: application/json' \
	--data '{"action":"release"}' "$BASE/v1/declarations/$ANY/decision")"
eq "enterprise cannot read stats (403)" 403 "$(code ecurl "$BASE/v1/stats")"
eq "enterprise cannot open the console (403)" 403 "$(code ecurl "$BASE/")"
eq "the enterprise's decision attempt changed nothing" accepted \
	"$(psql_q "SELECT status FROM declarations WHERE id = $ANY")"
eq "officer cannot submit (403)" 403 "$(code ocurl -H 'Content-Type: application/xml' \
	--data-binary @"$D/a/decl-000004.xml.s" "$BASE/v1/declarations")"
eq "officer may search (200)" 200 "$(code ocurl "$BASE/v1/declarations")"
ocurl -D "$TDIR/h.txt" -o "$TDIR/index.html" "$BASE/"
check "console: / is index.html" grep -q 'officer console' "$TDIR/index.html"
check "console: text/html" grep -qi '^content-type: text/html' "$TDIR/h.txt"
check "console: with a Content-Security-Policy" grep -qi "^content-security-policy: default-src 'self'" "$TDIR/h.txt"
ocurl -D "$TDIR/h.txt" -o /dev/null "$BASE/console/app.js"
check "console: app.js as text/javascript" grep -qi '^content-type: text/javascript' "$TDIR/h.txt"
eq "console: style.css" 200 "$(code ocurl "$BASE/console/style.css")"
for p in /console/../../etc/passwd /console/%2e%2e/%2e%2e/etc/passwd /console/..%2fsql/001_init.sql \
	/console/.hidden.js /console//etc/passwd /console/nope.js /console/index.sh /consolex; do
	c=$(code ocurl --path-as-is "$BASE$p")
	eq "console: no file outside web_root or unknown ($p -> 404)" 404 "$c"
done

# --- 2. every filter, paged by 7, against SQL
filter() { # description, query, SQL condition
	got=$(api_ids "$2" 7 2>/dev/null)
	want=$(sql_ids "$3")
	if [ -n "$want" ] && [ "$got" = "$want" ]; then
		ok "filter $1: $(echo "$want" | wc -l) rows, same order as SQL"
	else
		not_ok "filter $1 ($2): got [$(echo $got)] want [$(echo $want)]"
	fi
}
A1=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OFA-000005'")
MRN1=$(psql_q "SELECT mrn FROM declarations WHERE id = $A1")
MID=$(psql_q "SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM declarations ORDER BY received_at, id OFFSET 10 LIMIT 1")
filter "none" "" "true"
filter "status" "status=accepted" "status = 'accepted'"
filter "declarant" "declarant=GB000000000002" "declarant = 'GB000000000002'"
filter "lane red" "lane=red" "lane = 'red'"
filter "lane yellow" "lane=yellow" "lane = 'yellow'"
filter "hs code (10 digits)" "hs=8517130000" "'8517130000' = ANY (hs_codes)"
filter "hs code (10 digits), red" "hs=9301100000" "'9301100000' = ANY (hs_codes)"
filter "hs code (8 digits)" "hs=30049000" "'30049000' = ANY (hs_codes)"
filter "origin" "origin=KP" "'KP' = ANY (origins)"
filter "origin CN" "origin=CN" "'CN' = ANY (origins)"
filter "mrn" "mrn=$MRN1" "mrn = '$MRN1'"
filter "lrn" "lrn=OFA-000005" "lrn = 'OFA-000005'"
filter "from" "from=$MID" "received_at >= '$MID'"
filter "to" "to=$MID" "received_at < '$MID'"
filter "from+to (dates)" "from=2000-01-01&to=2999-12-31" "true"
filter "status+lane+declarant" "status=accepted&lane=green&declarant=GB000000000001" \
	"status = 'accepted' AND lane = 'green' AND declarant = 'GB000000000001'"
filter "hs+origin" "hs=8517130000&origin=TW" "'8517130000' = ANY (hs_codes) AND 'TW' = ANY (origins)"
eq "no match: an empty page" '0 null' "$(ocurl "$BASE/v1/declarations?lrn=NOPE" >"$TDIR/p.json"; echo "$(jget count "$TDIR/p.json") $(jget next_cursor "$TDIR/p.json" | sed 's/^$/null/')")"
ocurl "$BASE/v1/declarations?lrn=OFA-000005" >"$TDIR/p.json"
eq "a row carries its fields" "OFA-000005|GB000000000001|$MRN1|accepted|green|3" \
	"$(for k in lrn declarant mrn status lane item_count; do jget items.0.$k "$TDIR/p.json"; done | paste -sd'|' -)"
for q in status=bogus hs=123 hs=8517 hs=85171 hs=12ab34 origin=cn origin=CHN lane=blue limit=0 limit=201 \
	from=2026-02-30 from=2026-13-01 to=yesterday from=2026-01-01T25:00 cursor=abc cursor=1-x \
	foo=1 'status=held&status=accepted' "lrn=$(printf 'a%.0s' $(seq 1 80))"; do
	eq "bad query $q -> 400" 400 "$(code ocurl "$BASE/v1/declarations?$q")"
done
eq "400 names BAD_QUERY" BAD_QUERY "$(jget error "$TDIR/body.json")"

# --- 3. paging while new declarations arrive: no duplicates, no gaps
"$BUILD/gendecl" --items 2 --count 12 --seed 90 --out "$D/late" --declarant GB000000000001 --lrn LATE >/dev/null
for f in "$D"/late/*.xml; do sign_file "$f" "$f.s"; done
cat >"$TDIR/late.sh" <<EOF
for f in "$D"/late/*.xml.s; do
	curl -s -o /dev/null --cert "$TDIR/pki/enterprise.pem" --key "$TDIR/pki/enterprise.key" \
		--cacert "$TDIR/pki/ca.pem" -H 'Content-Type: application/xml' \
		--data-binary @"\$f" "$BASE/v1/declarations"
done
EOF
SNAP=$(sql_ids "true")
GOT=$(api_ids "" 4 "sh $TDIR/late.sh" 2>"$TDIR/pages.txt")
eq "12 declarations arrived while paging" 12 "$(psql_q "SELECT count(*) FROM declarations WHERE lrn LIKE 'LATE-%'")"
eq "paging saw every row that existed when it started, once, in order" "$SNAP" "$GOT"
eq "no duplicates" "$(echo "$GOT" | wc -l)" "$(echo "$GOT" | sort -u | wc -l)"
check "paged in several pages ($(cat "$TDIR/pages.txt"))" grep -Eq 'pages ([2-9]|[1-9][0-9]+)' "$TDIR/pages.txt"
eq "a new search starts with the new ones" "$(sql_ids true | head -n 4)" "$(api_ids "" 4 2>/dev/null | head -n 4)"

# --- 4. decisions
decide() { # cert-name id action reason -> body in $TDIR/body.json, prints status
	code ncurl "$1" -H 'Content-Type: application/json' \
		--data "{\"action\":\"$3\",\"reason\":\"$4\"}" "$BASE/v1/declarations/$2/decision"
}
R=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OFA-000004'")
eq "release an accepted declaration -> 200" 200 "$(decide officer "$R" release 'documents in order')"
eq "the answer names the transition and the officer" "accepted released OFF0001" \
	"$(jget from "$TDIR/body.json") $(jget to "$TDIR/body.json") $(jget actor "$TDIR/body.json")"
SEQ=$(jget ack_seq "$TDIR/body.json")
eq "stored: released, event by OFF0001 (release, reason), acknowledgement 08 queued" \
	"released|OFF0001|release|accepted|released|documents in order|08|$SEQ" \
	"$(psql_q "SELECT d.status, e.actor, e.action, e.from_status, e.to_status, e.reason, a.kind, a.seq FROM declarations d
		JOIN events e ON e.declaration_id = d.id AND e.action IS NOT NULL
		JOIN acks a ON a.declaration_id = d.id AND a.seq = $SEQ AND a.party = d.submitter WHERE d.id = $R")"
ecurl "$BASE/v1/acks?after=$((SEQ - 1))&limit=1" >"$TDIR/feed.json"
eq "the release acknowledgement is in the enterprise's feed" "$SEQ 08 $R" \
	"$(jget acks.0.seq "$TDIR/feed.json") $(jget acks.0.kind "$TDIR/feed.json") $(jget acks.0.declaration_id "$TDIR/feed.json")"
jget acks.0.body "$TDIR/feed.json" | base64 -d >"$TDIR/release.xml"
check "the release acknowledgement verifies with xmlsec1" \
	xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 "$TDIR/release.xml"
eq "it states released, the MRN and the reason" "08|released|$(psql_q "SELECT mrn FROM declarations WHERE id = $R")" \
	"$(rx "$TDIR/release.xml" "/*[local-name()='Response']/*[local-name()='FunctionCode']")|$(rx "$TDIR/release.xml" "//*[local-name()='Status']/*[local-name()='NameCode']")|$(rx "$TDIR/release.xml" "//*[local-name()='MRN']")"
check "it carries the officer's reason" grep -q 'documents in order' "$TDIR/release.xml"
eq "release again -> 409" 409 "$(decide officer "$R" release again)"
eq "409 ILLEGAL_TRANSITION names the current state" "ILLEGAL_TRANSITION released" \
	"$(jget error "$TDIR/body.json") $(jget state "$TDIR/body.json")"
# a path through the lifecycle, each step an event and an acknowledgement
P=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OFA-000006'")
steps=""
for s in "require_documents 06 documents_required" "inspect 05 inspection" "hold 16 held" "release 08 released"; do
	set -- $s
	c=$(decide officer2 "$P" "$1" "step $1")
	steps="$steps $c:$(jget to "$TDIR/body.json")"
done
eq "require_documents -> inspect -> hold -> release" " 200:documents_required 200:inspection 200:held 200:released" "$steps"
eq "four events by OFF0002, four acknowledgements 06 05 16 08" "OFF0002 4|06 05 16 08" \
	"$(psql_q "SELECT actor || ' ' || count(*) FROM events WHERE declaration_id = $P AND action IS NOT NULL GROUP BY actor")|$(psql_q "SELECT string_agg(kind, ' ' ORDER BY seq) FROM acks WHERE declaration_id = $P AND kind <> '01'")"
H7=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OFA-000007'")
eq "hold, then hold again: 200 then 409" "200 409" "$(decide officer "$H7" hold x) $(decide officer "$H7" hold y)"
J=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OFA-000008'")
eq "reject needs a supervisor (403)" "403 SUPERVISOR_REQUIRED" "$(decide officer "$J" reject 'false invoice') $(jget error "$TDIR/body.json")"
eq "a supervisor (OU=supervisor) may reject" "200 rejected SUP0001" \
	"$(decide super "$J" reject 'false invoice') $(jget to "$TDIR/body.json") $(jget actor "$TDIR/body.json")"
eq "rejection acknowledgement 03 queued" 03 "$(psql_q "SELECT kind FROM acks WHERE declaration_id = $J ORDER BY seq DESC LIMIT 1")"
K=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OFA-000009'")
eq "not JSON -> 400" 400 "$(code ocurl --data 'action=release' "$BASE/v1/declarations/$K/decision")"
eq "unknown action -> 400" 400 "$(decide officer "$K" approve x)"
eq "accept is not an officer action -> 400" 400 "$(decide officer "$K" accept x)"
eq "hold without a reason -> 400" 400 "$(decide officer "$K" hold '  ')"
eq "extra member -> 400" 400 "$(code ocurl --data '{"action":"hold","reason":"x","force":true}' "$BASE/v1/declarations/$K/decision")"
eq "BAD_DECISION" BAD_DECISION "$(jget error "$TDIR/body.json")"
eq "unknown declaration -> 404" 404 "$(decide officer 999999999 release x)"
eq "non-numeric id -> 404" 404 "$(decide officer abc release x)"
eq "GET on a decision -> 405" 405 "$(code ocurl "$BASE/v1/declarations/$K/decision")"
eq "none of the refused ones changed anything" "accepted 1" \
	"$(psql_q "SELECT status || ' ' || (SELECT count(*) FROM events WHERE declaration_id = $K) FROM declarations WHERE id = $K")"
LONG=$(printf 'é%.0s' $(seq 1 300))
eq "a long UTF-8 reason is kept whole in the event" "200 600" \
	"$(decide officer "$K" hold "$LONG") $(psql_q "SELECT octet_length(reason) FROM events WHERE declaration_id = $K AND action = 'hold'")"

# --- 5. two officers, two daemon instances, the same declarations at once:
# release (final) against reject (final), so whatever the timing only one
# of them can apply
API1=$API_PORT ADMIN1=$ADMIN_PORT PID1=$DAEMON_PID
API_PORT=$(free_port) ADMIN_PORT=$(free_port)
write_config "$TDIR/declared2.conf" declared
"$DECLARED" -c "$TDIR/declared2.conf" >>"$TDIR/daemon2.log" 2>&1 &
PID2=$!
i=0
until curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 || [ $i -gt 300 ]; do i=$((i + 1)); sleep 0.1; done
check "a second daemon instance on the same database is ready" curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" -o /dev/null
API2=$API_PORT API_PORT=$API1 ADMIN_PORT=$ADMIN1
RACE=$(psql_q "SELECT id FROM declarations WHERE status = 'accepted' AND lrn LIKE 'LATE-%' ORDER BY id")
n=0 one_winner=0
for id in $RACE; do
	n=$((n + 1))
	ncurl officer -o "$TDIR/r1.$id" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data '{"action":"release"}' "https://127.0.0.1:$API1/v1/declarations/$id/decision" >"$TDIR/c1.$id" &
	p1=$!
	ncurl super -o "$TDIR/r2.$id" -w '%{http_code}' -H 'Content-Type: application/json' \
		--data '{"action":"reject","reason":"false origin"}' "https://127.0.0.1:$API2/v1/declarations/$id/decision" >"$TDIR/c2.$id" &
	p2=$!
	wait $p1 $p2
	c="$(cat "$TDIR/c1.$id") $(cat "$TDIR/c2.$id")"
	ev=$(psql_q "SELECT count(*) || ' ' || min(to_status) FROM events WHERE declaration_id = $id AND action IS NOT NULL")
	st=$(psql_q "SELECT status FROM declarations WHERE id = $id")
	case "$c" in
	"200 409") [ "$ev" = "1 released" ] && [ "$st" = released ] && one_winner=$((one_winner + 1)) ;;
	"409 200") [ "$ev" = "1 rejected" ] && [ "$st" = rejected ] && one_winner=$((one_winner + 1)) ;;
	esac
	echo "race $id: $c -> $st ($(jget error "$TDIR/r1.$id")$(jget error "$TDIR/r2.$id"))" >>"$TDIR/race.log"
done
check "raced on $n declarations" [ "$n" -ge 10 ]
eq "each race: exactly one 200, one 409, one event, the winner's state" "$n" "$one_winner"
check "the losers' 409 name the state the winner left" sh -c \
	"grep -h -o '\"state\":\"[a-z_]*\"' $TDIR/r1.* $TDIR/r2.* | grep -qE 'released|rejected'"
[ "$n" = "$one_winner" ] || cat "$TDIR/race.log"
kill -TERM "$PID2" 2>/dev/null; wait "$PID2" 2>/dev/null

# --- 6. stats
ocurl "$BASE/v1/stats" >"$TDIR/stats.json"
eq "stats: open queues match SQL" \
	"$(psql_q "SELECT count(*) FILTER (WHERE status = 'accepted') || ' ' || count(*) FILTER (WHERE status = 'held') || ' ' || count(*) FILTER (WHERE status = 'documents_required') FROM declarations")" \
	"$(jget open.accepted "$TDIR/stats.json") $(jget open.held "$TDIR/stats.json") $(jget open.documents_required "$TDIR/stats.json")"
eq "stats: by lane in the last 24 h" "$(psql_q "SELECT count(*) FROM declarations WHERE lane = 'green'") $(psql_q "SELECT count(*) FROM declarations WHERE lane = 'red'")" \
	"$(jget by_lane.green "$TDIR/stats.json") $(jget by_lane.red "$TDIR/stats.json")"
eq "stats: by status sums to every declaration" "$(psql_q "SELECT count(*) FROM declarations")" \
	"$(python3 -c 'import json,sys; print(sum(json.load(open(sys.argv[1]))["by_status"].values()))' "$TDIR/stats.json")"
eq "stats: 15 minutes of throughput, declarations and decisions counted" \
	"15 $(psql_q "SELECT count(*) FROM declarations") $(psql_q "SELECT count(*) FROM events WHERE action IS NOT NULL")" \
	"$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["per_minute"]; print(len(m), sum(x["received"] for x in m), sum(x["decided"] for x in m))' "$TDIR/stats.json")"

# --- 7. declctl search, show, decide
DC="$DECLCTL --config $TDIR/pki/officer.conf --url $BASE"
# ids PAGE: the ids of a search page (declctl's output), one line
ids() { python3 -c 'import json,sys; print(" ".join(d["id"] for d in json.load(sys.stdin)["items"]))'; }
V=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OFA-000010'")
VMRN=$(psql_q "SELECT mrn FROM declarations WHERE id = $V")
eq "declctl search --lrn finds exactly that declaration" "$V" "$($DC search --lrn OFA-000010 2>&1 | ids)"
eq "declctl search --mrn finds exactly that declaration" "$V" "$($DC search --mrn "$VMRN" 2>&1 | ids)"
KP=$(sql_ids "'KP' = ANY (origins)" | tr '\n' ' ' | sed 's/ $//')
eq "declctl search --origin KP: the $(echo $KP | wc -w) declarations with an item from KP, newest first" \
	"${KP:-none}" "$($DC search --origin KP --limit 200 2>&1 | ids)"
check "declctl show prints its history" sh -c "$DC show $V | grep -q '\"history\"'"
check "declctl decide holds it" sh -c "$DC decide $V --action hold --reason 'seal broken' | grep -q '\"to\":\"held\"'"
check "declctl decide: an illegal action fails" sh -c "! $DC decide $V --action inspect --reason x 2>/dev/null"

# --- 8. every supported search on a large table: the daemon's own queries,
# their plans and executor times from auto_explain (docs/officers.md)
ROWS=${SEARCH_ROWS:-1000000}
PLAN_MAX_MS=${PLAN_MAX_MS:-50}
pq() { psql -X -q -A -t -U postgres -d declared_perf -c "$1"; }
pcurl() { curl -s --cert "$TDIR/pki/officer.pem" --key "$TDIR/pki/officer.key" --cacert "$TDIR/pki/ca.pem" "$@"; }
# synthetic but shaped like the real thing: 5,000 declarants (skewed),
# 85/10/5 % green/yellow/red, 1-5 items from 4,000 HS codes (skewed), 1-2
# origins of 30 countries, received over the last 30 days (two monthly
# partitions, sql/007_partitions.sql).  Secondary indexes are dropped for the
# load and built again from their definitions: on the partitioned table, so
# that they cascade to every partition (pg_indexes shows them "ON ONLY").
# The (declarant, lrn) registry is filled from the rows, as declared_store
# would have.
plans_load() {
	psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" -U postgres -d declared_perf <<'SQL'
CREATE TEMP TABLE idx AS SELECT indexname, replace(indexdef, ' ON ONLY ', ' ON ') AS indexdef
  FROM pg_indexes
 WHERE tablename = 'declarations' AND indexname NOT IN
       (SELECT conname FROM pg_constraint WHERE conrelid = 'declarations'::regclass);
DO $$ DECLARE r record; BEGIN
	FOR r IN SELECT indexname FROM idx LOOP EXECUTE format('DROP INDEX %I', r.indexname); END LOOP;
END $$;
SELECT count(declared_month_partition('declarations', m)) FROM generate_series(
	date_trunc('month', (now() - interval '30 days') AT TIME ZONE 'UTC'),
	now() AT TIME ZONE 'UTC', interval '1 month') m;
INSERT INTO declarations (id, declarant, lrn, submitter, profile, function_code, type_code,
	mrn, status, lane, item_count, hs_codes, origins, invoice_amount, currency,
	digest, raw, received_at, updated_at)
SELECT g, decl, 'P-' || g, decl, 'wco', '9', 'IM',
	'26GB' || lpad(g::text, 13, '0') || (g % 10)::text,
	CASE WHEN r1 < 50 THEN 'rejected'
	     WHEN lane = 'green' THEN CASE WHEN r1 < 70 THEN 'cancelled'
	          WHEN r1 < 120 THEN 'accepted' ELSE 'released' END
	     WHEN lane = 'yellow' THEN (ARRAY['documents_required', 'released', 'released', 'held'])[1 + g % 4]
	     ELSE (ARRAY['inspection', 'released', 'held'])[1 + g % 3] END,
	CASE WHEN r1 < 50 THEN NULL ELSE lane END,
	n, (ARRAY[p.hs[1 + h1], p.hs[1 + h2], p.hs[1 + h3], p.hs[1 + h4], p.hs[1 + h5]])[1:n],
	(ARRAY[p.cc[1 + c1], p.cc[1 + c2]])[1:1 + g % 2],
	(g % 100000)::numeric, 'EUR', '\x00'::bytea, '\x00'::bytea, ts, ts
FROM (SELECT ARRAY(SELECT lpad((1 + (i * 7919) % 97)::text, 2, '0') || lpad(((i * 104729) % 100)::text, 2, '0')
		|| lpad(((i * 31) % 100)::text, 2, '0')
		|| CASE WHEN i % 3 = 0 THEN '' ELSE lpad(((i * 17) % 10000)::text, 4, '0') END
		FROM generate_series(0, 3999) i ORDER BY i) AS hs,
	'{CN,US,DE,FR,IT,JP,KR,TW,VN,IN,TR,BR,MX,CA,ES,NL,BE,PL,CH,TH,MY,ID,PK,BD,ZA,EG,MA,AU,NZ,AR}'::text[] AS cc) p,
LATERAL (SELECT g, abs(hashint8(g)) % 1000 AS r1,
	'GB' || lpad((1 + floor(5000 * ((abs(hashint8(g + 7000000)) % 1000000) / 1e6) ^ 2))::int::text, 12, '0') AS decl,
	CASE WHEN abs(hashint8(g + 9000000)) % 100 < 85 THEN 'green'
	     WHEN abs(hashint8(g + 9000000)) % 100 < 95 THEN 'yellow' ELSE 'red' END AS lane,
	1 + abs(hashint8(g + 3000000)) % 5 AS n,
	floor(4000 * ((abs(hashint8(g * 5 + 1)) % 100000) / 1e5) ^ 3)::int AS h1,
	floor(4000 * ((abs(hashint8(g * 5 + 2)) % 100000) / 1e5) ^ 3)::int AS h2,
	floor(4000 * ((abs(hashint8(g * 5 + 3)) % 100000) / 1e5) ^ 3)::int AS h3,
	floor(4000 * ((abs(hashint8(g * 5 + 4)) % 100000) / 1e5) ^ 3)::int AS h4,
	floor(4000 * ((abs(hashint8(g * 5 + 5)) % 100000) / 1e5) ^ 3)::int AS h5,
	floor(30 * ((abs(hashint8(g + 11000000)) % 1000) / 1e3) ^ 2)::int AS c1,
	floor(30 * ((abs(hashint8(g + 12000000)) % 1000) / 1e3) ^ 2)::int AS c2,
	now() - (:rows - g) * (interval '30 days' / :rows) AS ts
	FROM generate_series(1, :rows) g) x;
INSERT INTO declaration_keys (declarant, lrn, id, received_at)
SELECT declarant, lrn, id, received_at FROM declarations;
DO $$ DECLARE r record; BEGIN
	FOR r IN SELECT indexdef FROM idx LOOP EXECUTE r.indexdef; END LOOP;
END $$;
VACUUM ANALYZE declarations, declaration_keys;
ALTER DATABASE declared_perf SET session_preload_libraries = 'auto_explain';
ALTER DATABASE declared_perf SET auto_explain.log_min_duration = 0;
ALTER DATABASE declared_perf SET auto_explain.log_analyze = on;
ALTER DATABASE declared_perf SET auto_explain.log_buffers = on;
SQL
}
# plan.py SEGMENT OUT [MARK]: the executor time and plan of the statement
# holding MARK (default: the search's) in a log segment
cat >"$TDIR/plan.py" <<'PY'
import re, sys
seg = open(sys.argv[1], errors="replace").read()
mark = sys.argv[3] if len(sys.argv) > 3 else "FROM declarations d WHERE"
found = None
for block in re.split(r"\n(?=\S)", seg):
    m = re.search(r"duration: ([0-9.]+) ms\s+plan:", block)
    if m and mark in block:
        found = (float(m.group(1)), re.sub(r"^\t", "", block[m.end():].strip("\n"), flags=re.M))
if found is None:
    print("999999")
else:
    print("%.3f" % found[0])
    open(sys.argv[2], "w").write(found[1] + "\n")
PY
# plan_seg OFFSET [MARK]: d, the executor time of the statement in pg.log
# past OFFSET (its plan in $TDIR/plan.run); auto_explain has normally
# logged it before the answer left PostgreSQL, but it is looked for again
# every 0.1 s, up to 5 s
plan_seg() {
	ps_n=0
	while :; do
		tail -c +$(($1 + 1)) "$PGDIR/pg.log" >"$TDIR/seg.log"
		rm -f "$TDIR/plan.run"
		d=$(python3 "$TDIR/plan.py" "$TDIR/seg.log" "$TDIR/plan.run" ${2:+"$2"})
		[ "$d" = 999999 ] && [ $ps_n -lt 50 ] || break
		ps_n=$((ps_n + 1))
		sleep 0.1
	done
}
# flt A B: A < B, as numbers
flt() { python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$1" "$2"; }
# plan NAME QUERY: best of three runs through the plan daemon, checked;
# up to three more while the best is over the budget (a busy machine
# preempts the backend: that time counts as the executor's)
plan() {
	best=999999 http=""
	run=0
	while [ $run -lt 3 ] || { [ $run -lt 6 ] && ! flt "$best" "$PLAN_MAX_MS"; }; do
		run=$((run + 1))
		off=$(stat -c %s "$PGDIR/pg.log")
		h=$(pcurl -o "$TDIR/pq.json" -w '%{http_code} %{time_total}' "$PB/v1/declarations?$2")
		plan_seg "$off"
		if flt "$d" "$best"; then
			best=$d http=$h
			cp "$TDIR/plan.run" "$TDIR/plan.best"
		fi
	done
	{ echo "### $1"
	  echo "GET /v1/declarations?$2 -> HTTP ${http%% *}, $(jget count "$TDIR/pq.json") rows;" \
		"executor $best ms (best of $run); HTTP round trip $(echo "${http#* }" | awk '{printf "%.1f", $1 * 1000}') ms"
	  echo; sed 's/^/    /' "$TDIR/plan.best"; echo; } >>"$TDIR/plans.txt"
	eq "plan: $1 -> 200" 200 "${http%% *}"
	# the monthly partitions ahead are empty (and analysed): a sequential
	# scan of one of them reads nothing; the partitions holding rows must
	# be read through an index
	check "plan: $1: no sequential scan of a partition holding rows" sh -c \
		"! grep -Eq 'Seq Scan on ($FULL) ' '$TDIR/plan.best'"
	check "plan: $1: a partition holding rows read through an index" \
		grep -Eq "(Index|Bitmap Heap) Scan.* on ($FULL) " "$TDIR/plan.best"
	check "plan: $1: $best ms < $PLAN_MAX_MS ms" flt "$best" "$PLAN_MAX_MS"
}
# plan_id NAME ID [/xml]: GET /v1/declarations/ID through the plan daemon:
# the registry gives the month, one partition of declarations is read
plan_id() {
	part=$(pq "SELECT tableoid::regclass FROM declarations WHERE id = $2")
	off=$(stat -c %s "$PGDIR/pg.log")
	h=$(pcurl -o "$TDIR/pid.out" -w '%{http_code} %{time_total}' "$PB/v1/declarations/$2${3:-}")
	plan_seg "$off" "FROM declaration_keys k WHERE k.id"
	{ echo "### $1"
	  echo "GET /v1/declarations/$2${3:-} -> HTTP ${h%% *} (in $part);" \
		"executor $d ms; HTTP round trip $(echo "${h#* }" | awk '{printf "%.1f", $1 * 1000}') ms"
	  echo; sed 's/^/    /' "$TDIR/plan.run" 2>/dev/null; echo; } >>"$TDIR/plans.txt"
	eq "plan: $1 -> 200" 200 "${h%% *}"
	eq "plan: $1: one partition of declarations read, $part" "1 $part" \
		"$(grep -E ' on declarations_([0-9]{4}_[0-9]{2}|default) ' "$TDIR/plan.run" 2>/dev/null |
			grep -v 'never executed' | awk '{ n++; for (i = 1; i < NF; i++) if ($i == "on") p = $(i + 1) } END { print n + 0, p }')"
	check "plan: $1: the other partitions pruned" grep -q 'never executed' "$TDIR/plan.run"
}
plans() {
	psql -X -q -U postgres -d postgres -c "CREATE DATABASE declared_perf" >/dev/null
	write_config "$TDIR/perf-migrate.conf" postgres
	sed -i 's/dbname=declared /dbname=declared_perf /' "$TDIR/perf-migrate.conf"
	"$DECLARED" --migrate -c "$TDIR/perf-migrate.conf" >"$TDIR/perf-migrate.log" 2>&1 ||
		{ not_ok "migrate the plan database"; cat "$TDIR/perf-migrate.log"; return; }
	t0=$(date +%s)
	plans_load >"$TDIR/perf-load.log" 2>&1 || { not_ok "load $ROWS rows"; cat "$TDIR/perf-load.log"; return; }
	echo "timing: $ROWS declarations generated and indexed in $(( $(date +%s) - t0 )) s"
	# a third daemon instance on the plan database: its own queries are measured
	A0=$API_PORT M0=$ADMIN_PORT
	API_PORT=$(free_port) ADMIN_PORT=$(free_port)
	write_config "$TDIR/perf.conf" declared
	sed -i 's/dbname=declared /dbname=declared_perf /' "$TDIR/perf.conf"
	"$DECLARED" -c "$TDIR/perf.conf" >>"$TDIR/perf-daemon.log" 2>&1 &
	PERF_PID=$!
	i=0
	until curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz" >/dev/null 2>&1 || [ $i -gt 300 ]; do i=$((i + 1)); sleep 0.1; done
	PB=https://127.0.0.1:$API_PORT
	API_PORT=$A0 ADMIN_PORT=$M0
	# the partitions holding rows (the monthly ones of the last 30 days)
	FULL=$(pq "SELECT string_agg(DISTINCT tableoid::regclass::text, '|') FROM declarations")
	eq "the rows are in the monthly partitions, none in the default one" "" \
		"$(echo "$FULL" | tr '|' '\n' | grep -v '^declarations_[0-9]\{4\}_[0-9]\{2\}$')"
	# values: the most and least frequent, HS codes at ~0.1, 0.3 and 1 %
	pq "CREATE TABLE hs_freq AS SELECT k, count(*) n FROM (SELECT unnest(hs_codes) k FROM declarations) u GROUP BY k" >/dev/null
	freq() { pq "SELECT k FROM hs_freq ORDER BY $1 LIMIT 1"; }
	HSTOP=$(freq "n DESC, k")
	HS10P1=$(freq "abs(n - $ROWS / 1000), k")
	HS10P3=$(freq "abs(n - $ROWS / 300), k")
	HS10P10=$(freq "abs(n - $ROWS / 100), k")
	HSRARE=$(freq "n, k")
	DTOP=$(pq "SELECT declarant FROM declarations GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
	DRARE=$(pq "SELECT declarant FROM declarations GROUP BY 1 ORDER BY count(*), 1 LIMIT 1")
	PMRN=$(pq "SELECT mrn FROM declarations WHERE id = $ROWS / 2")
	DAY1=$(pq "SELECT to_char(now() - interval '10 days', 'YYYY-MM-DD')")
	DAY2=$(pq "SELECT to_char(now() - interval '9 days', 'YYYY-MM-DD')")
	OLD=$(pq "SELECT ((extract(epoch FROM received_at) * 1000000)::bigint)::text || '-' || id FROM declarations ORDER BY received_at, id OFFSET 1000 LIMIT 1")
	pcurl "$PB/v1/declarations?status=released" >"$TDIR/p1.json"
	CUR=$(jget next_cursor "$TDIR/p1.json")
	: >"$TDIR/plans.txt"
	plan "no filter, newest first" ""
	plan "status, 4 % of rows" "status=held"
	plan "status, 80 % of rows" "status=released"
	plan "status, no row" "status=received"
	plan "status, 1.7 % of rows" "status=cancelled"
	plan "declarant, the busiest" "declarant=$DTOP"
	plan "declarant, the quietest" "declarant=$DRARE"
	plan "lane, 5 % of rows" "lane=red"
	plan "lane, 85 % of rows" "lane=green"
	plan "HS code, the most frequent" "hs=$HSTOP"
	plan "HS code, ~0.1 %" "hs=$HS10P1"
	plan "HS code, ~0.3 %" "hs=$HS10P3"
	plan "HS code, ~1 %" "hs=$HS10P10"
	plan "HS code, the rarest" "hs=$HSRARE"
	plan "origin, the most frequent" "origin=CN"
	plan "origin, the rarest" "origin=AR"
	plan "MRN" "mrn=$PMRN"
	plan "LRN" "lrn=P-4242"
	plan "one day" "from=$DAY1&to=$DAY2"
	plan "status and one day" "status=held&from=$DAY1&to=$DAY2"
	plan "declarant and status" "declarant=$DTOP&status=held"
	plan "status and lane" "status=held&lane=yellow"
	plan "HS code and status" "hs=$HS10P3&status=released"
	plan "HS code and origin" "hs=$HSTOP&origin=CN"
	plan "lane and status" "lane=green&status=cancelled"
	plan "next page (cursor)" "status=released&cursor=$CUR"
	plan "a cursor a month back" "cursor=$OLD"
	plan "200 rows a page" "limit=200"
	plan_id "one declaration by id, the newest" "$ROWS"
	plan_id "one declaration by id, a month back" 1
	plan_id "one stored document by id" "$((ROWS / 2))" /xml
	# the daemon keeps the stats 5 s (officer.c): the second call, 5.2 s
	# later, runs the statements again on warm connections
	t1=$(pcurl -o /dev/null -w '%{time_total}' "$PB/v1/stats")
	sleep 5.2
	t2=$(pcurl -o "$TDIR/stats.json" -w '%{time_total}' "$PB/v1/stats")
	echo "timing: GET /v1/stats over $ROWS rows: $(echo "$t1 $t2" | awk '{
		printf "first %.0f ms, again %.0f ms", $1 * 1000, $2 * 1000 }')" | tee -a "$TDIR/plans.txt"
	eq "stats on the large table: the held queue" "$(pq "SELECT count(*) FROM declarations WHERE status = 'held'")" \
		"$(jget open.held "$TDIR/stats.json")"
	[ -n "${PLANS_OUT:-}" ] && cp "$TDIR/plans.txt" "$PLANS_OUT"
	kill -TERM "$PERF_PID" 2>/dev/null
	wait "$PERF_PID" 2>/dev/null
}
if [ "$ROWS" -gt 0 ]; then plans; else echo "skip: plan test (SEARCH_ROWS=0)"; fi

daemon_stop
eq "SIGTERM: exit status 0" 0 "$?"
finish
