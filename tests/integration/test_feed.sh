#!/bin/sh
# The pull feed (GET /v1/acks) and declaration status (GET
# /v1/declarations/{id}): a reader following the feed with reconnects while
# declarations arrive concurrently sees every acknowledgement once, in
# order, without gaps, each one signed; long-polls wake at once; parties
# see only their own; status and stored XML only for their audience.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "skip: python3 is needed"; echo "0 passed, 0 failed"; exit 0; }
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
OUT=$TDIR/reader
mkdir -p "$D" "$OUT"
BASE=https://127.0.0.1:$API_PORT
FEED=$BASE/v1/acks
P1=GB000000000001
P2=GB000000000099
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# wait_metric NAME VALUE: until the metric NAME is VALUE, at most 10 s (the
# caller asserts; a fixed sleep lost to slow curl starts on a busy machine)
wait_metric() {
	wm=0
	while [ "$(metric "$1")" != "$2" ] && [ $wm -lt 100 ]; do sleep 0.1; wm=$((wm + 1)); done
}

# page.py PAGE OUTDIR SEEN CURSOR: stores each acknowledgement of a page as
# OUTDIR/ack-SEQ.xml, appends its seq to SEEN, prints the next cursor
cat >"$TDIR/page.py" <<'PY'
import base64, json, sys
page, out, seen, cursor = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
d = json.load(open(page))
with open(seen, "a") as s:
    for a in d["acks"]:
        assert a["seq"] > cursor, "seq %d not after cursor %d" % (a["seq"], cursor)
        assert set(a) == {"seq", "declaration_id", "kind", "created_at", "body"}, sorted(a)
        open("%s/ack-%d.xml" % (out, a["seq"]), "wb").write(base64.b64decode(a["body"], validate=True))
        s.write("%d\n" % a["seq"])
        cursor = a["seq"]
assert d["next"] == cursor, "next %s, last seq %d" % (d["next"], cursor)
print(cursor)
PY

# 1. a reader follows the feed (a new TLS connection per request, every
# fourth request abandoned mid-long-poll) while 40 declarations arrive
"$BUILD/gendecl" --items 3 --count 40 --out "$D/many" --declarant $P1 --lrn FEED >/dev/null
for f in "$D"/many/*.xml; do sign_file "$f" "$f.s"; done
reader() {
	cursor=0
	i=0
	while [ $i -lt 2000 ]; do
		i=$((i + 1))
		if [ -f "$TDIR/target" ] && [ "$cursor" -ge "$(cat "$TDIR/target")" ]; then
			return 0
		fi
		if [ $((i % 4)) = 0 ]; then
			ecurl --max-time 0.5 -o /dev/null "$FEED?after=$cursor&limit=7&wait=5"
			continue
		fi
		code=$(ecurl --max-time 20 -o "$TDIR/page" -w '%{http_code}' \
			"$FEED?after=$cursor&limit=7&wait=5")
		[ "$code" = 200 ] || { echo "reader: HTTP $code" >>"$TDIR/reader.err"; sleep 0.2; continue; }
		cursor=$(python3 "$TDIR/page.py" "$TDIR/page" "$OUT" "$TDIR/seen" "$cursor" 2>>"$TDIR/reader.err") ||
			{ echo "reader: bad page" >>"$TDIR/reader.err"; return 1; }
		echo "$i $cursor" >>"$TDIR/reader.log"
	done
	return 1
}
: >"$TDIR/seen"
reader &
READER=$!
sleep 0.5
export TDIR FEED
ls "$D"/many/*.xml.s | xargs -P 8 -I{} sh -c 'curl -s --cert "$TDIR/pki/enterprise.pem" \
	--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" -o /dev/null -w "%{http_code}\n" \
	-H "Content-Type: application/xml" --data-binary @{} "'"$BASE"'/v1/declarations"' >"$D/codes" 2>/dev/null
eq "40 concurrent submissions -> 202" 40 "$(grep -c '^202$' "$D/codes")"
TARGET=$(psql_q "SELECT ack_seq FROM parties WHERE id = '$P1'")
READ=$TARGET
echo "$TARGET" >"$TDIR/target"
i=0
while kill -0 $READER 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
kill $READER 2>/dev/null
wait $READER
eq "reader caught up with all $TARGET acknowledgements" 0 "$?"
[ -s "$TDIR/reader.err" ] && { echo "reader errors:"; head "$TDIR/reader.err"; }
check "reader reconnected many times ($(wc -l <"$TDIR/reader.log") pages)" [ "$(wc -l <"$TDIR/reader.log")" -ge 3 ]
eq "every acknowledgement seen exactly once, in order, no gap" "$(seq 1 "$TARGET" | tr '\n' ' ')" \
	"$(tr '\n' ' ' <"$TDIR/seen")"
psql_q "SELECT seq || ' ' || encode(sha256(body), 'hex') FROM acks WHERE party = '$P1' ORDER BY seq" >"$TDIR/db.sums"
for s in $(seq 1 "$TARGET"); do
	echo "$s $(sha256sum <"$OUT/ack-$s.xml" | cut -d' ' -f1)"
done >"$TDIR/feed.sums"
check "each body is the stored acknowledgement byte for byte" cmp -s "$TDIR/db.sums" "$TDIR/feed.sums"
bad=0
for s in $(seq 1 "$TARGET"); do
	xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 \
		"$OUT/ack-$s.xml" >/dev/null 2>&1 || bad=$((bad + 1))
done
eq "every acknowledgement verifies with xmlsec1 against the daemon's CA" 0 "$bad"

# 2. a long-poll returns at once when an acknowledgement commits
"$BUILD/gendecl" --items 1 --lrn FEED-LP --declarant $P1 >"$D/lp.xml"
sign_file "$D/lp.xml" "$D/lp.s.xml"
T0=$(date +%s%N)
ecurl -o "$TDIR/lp.json" "$FEED?after=$TARGET&wait=5" &
LP=$!
wait_metric declared_feed_parked 1 # parked before the commit, however slow curl starts
sleep 1
submit "$D/lp.s.xml"
T1=$(date +%s%N)
wait $LP
LAT=$(ms_since "$T1")
TOTAL=$(ms_since "$T0")
echo "timing: long-poll answered ${LAT} ms after the 202 (parked ${TOTAL} ms in all)"
eq "submission during the long-poll -> 202" 202 "$HTTP_CODE"
eq "the parked long-poll got the new acknowledgement" "$((TARGET + 1))" \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["acks"][0]["seq"])' "$TDIR/lp.json" 2>/dev/null)"
check "it was parked before (${TOTAL} ms >= 900)" [ "$TOTAL" -ge 900 ]
check "it returned within 1 s of the commit (${LAT} ms)" [ "$LAT" -lt 1000 ]
TARGET=$(psql_q "SELECT ack_seq FROM parties WHERE id = '$P1'")

# 3. nothing new: the wait ends with an empty page and the same cursor
T0=$(date +%s%N)
R=$(ecurl "$FEED?after=$TARGET&wait=2")
W=$(ms_since "$T0")
eq "expired long-poll -> empty page, next = cursor" "{\"acks\":[],\"next\":$TARGET}" "$R"
check "it waited about 2 s (${W} ms)" sh -c "[ $W -ge 1900 ] && [ $W -lt 6000 ]"
eq "no wait: an empty page at once" "{\"acks\":[],\"next\":$TARGET}" "$(ecurl "$FEED?after=$TARGET")"
check "metrics: declared_feed_woken_total >= 1 (section 2)" [ "$(metric declared_feed_woken_total)" -ge 1 ]
check "metrics: declared_feed_timeouts_total >= 1 (the 2 s wait)" [ "$(metric declared_feed_timeouts_total)" -ge 1 ]
check "metrics: declared_feed_empty_total >= 2" [ "$(metric declared_feed_empty_total)" -ge 2 ]
check "metrics: declared_feed_requests_total >= the reader's pages" \
	[ "$(metric declared_feed_requests_total)" -ge "$(wc -l <"$TDIR/reader.log")" ]
eq "limit caps a page" 3 "$(ecurl "$FEED?after=0&limit=3" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["acks"]))')"
eq "limit above 1000 is capped, not refused" 200 "$(ecurl -o /dev/null -w '%{http_code}' "$FEED?limit=5000")"
for q in "after=-1" "after=x" "limit=0" "wait=1.5" "after=99999999999999999999"; do
	eq "bad parameter $q -> 400" 400 "$(ecurl -o /dev/null -w '%{http_code}' "$FEED?$q")"
done
OFF="--cert $TDIR/pki/officer.pem --key $TDIR/pki/officer.key --cacert $TDIR/pki/ca.pem"
eq "the feed refuses officer certificates" 403 "$(curl -s $OFF -o /dev/null -w '%{http_code}' "$FEED")"
eq "POST on the feed -> 405" 405 "$(ecurl -o /dev/null -w '%{http_code}' -d x "$FEED")"

# 4. declctl acks reads the same feed, keeps its cursor, repeats nothing
CLI="$DECLCTL --url $BASE --cert $TDIR/pki/enterprise.pem --key $TDIR/pki/enterprise.key --cacert $TDIR/pki/ca.pem"
$CLI acks --after 0 --out "$TDIR/cli" --trusted-ca "$TDIR/pki/ca.pem" >"$TDIR/cli.out" 2>&1
eq "declctl acks exits 0" 0 "$?"
eq "declctl acks wrote every acknowledgement" "$TARGET" "$(ls "$TDIR"/cli/ack-*.xml 2>/dev/null | wc -l)"
eq "declctl cursor = last seq" "$TARGET" "$(cat "$TDIR/cli/.cursor" 2>/dev/null)"
same=0
for s in $(seq 1 "$READ"); do cmp -s "$OUT/ack-$s.xml" "$TDIR/cli/ack-$s.xml" && same=$((same + 1)); done
eq "declctl files are the reader's files" "$READ" "$same"
check "declctl printed the declaration ids" grep -q " id=[0-9]" "$TDIR/cli.out"
$CLI acks --out "$TDIR/cli" --trusted-ca "$TDIR/pki/ca.pem" >"$TDIR/cli2.out" 2>&1
eq "declctl again from its cursor: nothing new" 0 "$(grep -c 'ack-' "$TDIR/cli2.out")"
"$BUILD/gendecl" --items 1 --lrn FEED-CLI --declarant $P1 >"$D/c.xml"
sign_file "$D/c.xml" "$D/c.s.xml"
submit "$D/c.s.xml"
NEW=$(psql_q "SELECT ack_seq FROM parties WHERE id = '$P1'")
$CLI acks --out "$TDIR/cli" --trusted-ca "$TDIR/pki/ca.pem" >"$TDIR/cli3.out" 2>&1
eq "declctl from its cursor: only the new ones" "$((NEW - TARGET))" "$(grep -c 'ack-' "$TDIR/cli3.out")"
TARGET=$NEW

# 5. another enterprise sees only its own acknowledgements
"$DECLCTL" pki issue "$TDIR/pki" --ca enterprise-ca --party $P2 --out other >/dev/null &&
	"$DECLCTL" pki issue "$TDIR/pki" --ca signing-ca --party $P2 --out other-sign >/dev/null
eq "second enterprise issued" 0 "$?"
ocurl() { curl -s --cert "$TDIR/pki/other.pem" --key "$TDIR/pki/other.key" --cacert "$TDIR/pki/ca.pem" "$@"; }
eq "a party without acknowledgements: empty feed" '{"acks":[],"next":0}' "$(ocurl "$FEED?after=0")"
"$BUILD/gendecl" --items 1 --lrn OTHER-1 --declarant $P2 >"$D/o.xml"
"$DECLCTL" sign --sign-cert "$TDIR/pki/other-sign.pem" --sign-key "$TDIR/pki/other-sign.key" \
	--out "$D/o.s.xml" "$D/o.xml"
OC=$(ocurl -o /dev/null -w '%{http_code}' -H 'Content-Type: application/xml' \
	--data-binary @"$D/o.s.xml" "$BASE/v1/declarations")
eq "the other enterprise submits -> 202" 202 "$OC"
OID=$(psql_q "SELECT id FROM declarations WHERE lrn = 'OTHER-1'")
ocurl "$FEED?after=0" >"$TDIR/o.json"
eq "its feed has only its declaration" "$OID" \
	"$(python3 -c 'import json,sys; print(" ".join(sorted(set(a["declaration_id"] for a in json.load(open(sys.argv[1]))["acks"]))))' "$TDIR/o.json")"
eq "its sequence starts at 1" 1 "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["acks"][0]["seq"])' "$TDIR/o.json")"
eq "the first party's feed did not move" "{\"acks\":[],\"next\":$TARGET}" "$(ecurl "$FEED?after=$TARGET")"

# 6. status and stored XML: owner and officers, nobody else
ID=$(psql_q "SELECT id FROM declarations WHERE lrn = 'FEED-LP'")
ecurl -o "$TDIR/st.json" -w '%{http_code}' "$BASE/v1/declarations/$ID" >"$TDIR/st.code"
eq "owner: status -> 200" 200 "$(cat "$TDIR/st.code")"
eq "status JSON: id, lrn, declarant, submitter, status from the row" \
	"$(psql_q "SELECT id||'|'||lrn||'|'||declarant||'|'||submitter||'|'||status||'|'||mrn FROM declarations WHERE id = $ID")" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("|".join(str(d[k]) for k in ("id","lrn","declarant","submitter","status","mrn")))' "$TDIR/st.json")"
eq "status JSON: the whole history, in order" \
	"$(psql_q "SELECT string_agg(coalesce(from_status,'-')||'>'||to_status, ' ' ORDER BY id) FROM events WHERE declaration_id = $ID")" \
	"$(python3 -c 'import json,sys; print(" ".join((h["from"] or "-")+">"+h["to"] for h in json.load(open(sys.argv[1]))["history"]))' "$TDIR/st.json")"
eq "status JSON: its acknowledgements" \
	"$(psql_q "SELECT string_agg(seq::text||':'||kind, ' ' ORDER BY seq) FROM acks WHERE declaration_id = $ID")" \
	"$(python3 -c 'import json,sys; print(" ".join("%d:%s" % (a["seq"], a["kind"]) for a in json.load(open(sys.argv[1]))["acks"]))' "$TDIR/st.json")"
check "status JSON has every documented key" python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); want={"id","lrn","declarant","submitter","mrn","status","lane","version","profile","type_code","function_code","item_count","hs_codes","invoice_amount","currency","received_at","updated_at","history","acks"}; sys.exit(0 if want <= set(d) else 1)' "$TDIR/st.json"
ecurl -o "$TDIR/st.xml" "$BASE/v1/declarations/$ID/xml"
check "owner: /xml is the submitted document byte for byte" cmp -s "$TDIR/st.xml" "$D/lp.s.xml"
eq "/xml is application/xml" "application/xml" \
	"$(ecurl -o /dev/null -D - "$BASE/v1/declarations/$ID/xml" | tr -d '\r' | sed -n 's/^Content-Type: //Ip')"
eq "another enterprise: status -> 404" 404 "$(ocurl -o /dev/null -w '%{http_code}' "$BASE/v1/declarations/$ID")"
eq "another enterprise: xml -> 404" 404 "$(ocurl -o /dev/null -w '%{http_code}' "$BASE/v1/declarations/$ID/xml")"
eq "officer: status -> 200" 200 "$(curl -s $OFF -o /dev/null -w '%{http_code}' "$BASE/v1/declarations/$ID")"
eq "officer: xml -> 200" 200 "$(curl -s $OFF -o /dev/null -w '%{http_code}' "$BASE/v1/declarations/$OID/xml")"
eq "the other enterprise sees its own -> 200" 200 "$(ocurl -o /dev/null -w '%{http_code}' "$BASE/v1/declarations/$OID")"
for p in 999999999 abc 12/13 "$ID/raw" ""; do
	eq "no such declaration '$p' -> 404" 404 "$(ecurl -o /dev/null -w '%{http_code}' "$BASE/v1/declarations/$p")"
done

# 7. bounded: 16 parked polls per party, the 17th gets 429; clients that
# hang up free their places at once
OTH="--cert $TDIR/pki/other.pem --key $TDIR/pki/other.key --cacert $TDIR/pki/ca.pem"
for i in $(seq 1 16); do curl -s $OTH -o /dev/null "$FEED?after=1000&wait=30" & echo $! >>"$TDIR/polls"; done
wait_metric declared_feed_parked 16
eq "metrics: declared_feed_parked = 16" 16 "$(metric declared_feed_parked)"
eq "17th parked poll of one party -> 429" 429 "$(ocurl -o /dev/null -w '%{http_code}' "$FEED?after=1000&wait=30")"
eq "another party is not affected" 200 "$(ecurl -o /dev/null -w '%{http_code}' "$FEED?after=0&limit=1")"
kill $(cat "$TDIR/polls") 2>/dev/null
for p in $(cat "$TDIR/polls"); do wait "$p" 2>/dev/null; done
wait_metric declared_feed_parked 0
eq "metrics: declared_feed_parked = 0 once they hung up" 0 "$(metric declared_feed_parked)"
eq "after those clients hung up: polls accepted again" 200 "$(ocurl -o /dev/null -w '%{http_code}' "$FEED?after=1000&wait=1")"
check "daemon alive" kill -0 "$DAEMON_PID"

# 8. SIGTERM answers parked long-polls at once, exit 0
TP=
for i in 1 2 3; do ecurl -o "$TDIR/term.$i" "$FEED?after=$TARGET&wait=30" & TP="$TP $!"; done
wait_metric declared_feed_parked 3
T0=$(date +%s%N)
daemon_stop
RC=$?
W=$(ms_since "$T0")
for p in $TP; do wait "$p"; done
eq "SIGTERM with parked long-polls: exit 0" 0 "$RC"
check "stopped within 3 s (${W} ms)" [ "$W" -lt 3000 ]
eq "parked long-polls got an empty page" "{\"acks\":[],\"next\":$TARGET}" "$(cat "$TDIR/term.1")"
finish
