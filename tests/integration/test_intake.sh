#!/bin/sh
# The intake path end to end: mutual TLS, parse, signature, schema, group
# commit, receipts; duplicates, conflicts, bad input, no 202 before COMMIT.
. "$(dirname "$0")/lib.sh"
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
mkdir -p "$D"
URL=https://127.0.0.1:$API_PORT/v1/declarations

# 1. a valid signed declaration: 202, Location, signed receipt, row stored
"$BUILD/gendecl" --items 20 --lrn IT-VALID-1 --declarant GB000000000001 >"$D/v1.xml"
sign_file "$D/v1.xml" "$D/v1.signed.xml"
submit "$D/v1.signed.xml"
eq "valid declaration -> 202" 202 "$HTTP_CODE"
cp "$BODY_FILE" "$D/v1.receipt.xml"
check "receipt verifies with xmlsec1 against the daemon's CA" \
	xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 "$D/v1.receipt.xml"
check "receipt is valid against xsd/response.xsd" \
	xmllint --noout --schema "$ROOT/xsd/response.xsd" "$D/v1.receipt.xml"
ID=$(rx "$D/v1.receipt.xml" "/*[local-name()='Response']/*[local-name()='Declaration']/*[local-name()='ID']")
MRN=$(rx "$D/v1.receipt.xml" "/*[local-name()='Response']/*[local-name()='Declaration']/*[local-name()='MRN']")
eq "row stored with LRN, declarant, MRN, 20 items, green lane released" \
	"IT-VALID-1|GB000000000001|$MRN|20|released|green" \
	"$(psql_q "SELECT lrn||'|'||declarant||'|'||mrn||'|'||item_count||'|'||status||'|'||lane FROM declarations WHERE id = '$ID'")"
eq "stored raw bytes are the submitted bytes" "$(sha256sum <"$D/v1.signed.xml" | cut -d' ' -f1)" \
	"$(psql_q "SELECT encode(sha256(raw), 'hex') FROM declarations WHERE id = '$ID'")"
eq "the stored digest is the SHA-256 of the stored bytes" t \
	"$(psql_q "SELECT digest = sha256(raw) FROM declarations WHERE id = '$ID'")"
eq "two events (accepted, released) and two acknowledgements in the outbox" "2|2" \
	"$(psql_q "SELECT (SELECT count(*) FROM events WHERE declaration_id = '$ID')||'|'||(SELECT count(*) FROM acks WHERE declaration_id = '$ID')")"
check "MRN has a valid form" sh -c "echo '$MRN' | grep -Eq '^[0-9]{2}GB[0-9]{13}[0-9]$'"
LOC=$(ecurl -o /dev/null -D - -H 'Content-Type: application/xml' --data-binary @"$D/v1.signed.xml" "$URL" | tr -d '\r' | sed -n 's/^Location: //Ip')
eq "Location names the declaration" "/v1/declarations/$ID" "$LOC"

# 2. the same bytes again: the original receipt, nothing stored twice
submit "$D/v1.signed.xml"
eq "duplicate -> 202" 202 "$HTTP_CODE"
check "duplicate gets the original receipt byte for byte" cmp -s "$BODY_FILE" "$D/v1.receipt.xml"
eq "still one row for the LRN" 1 "$(psql_q "SELECT count(*) FROM declarations WHERE lrn = 'IT-VALID-1'")"

# 3. same LRN, other bytes: 409
"$BUILD/gendecl" --items 3 --lrn IT-VALID-1 --declarant GB000000000001 --seed 7 >"$D/v1b.xml"
sign_file "$D/v1b.xml" "$D/v1b.signed.xml"
submit "$D/v1b.signed.xml"
eq "same LRN, other content -> 409" 409 "$HTTP_CODE"
eq "409 names LRN_CONFLICT" LRN_CONFLICT "$(rx "$BODY_FILE" "//*[local-name()='ValidationCode']")"
check "409 Response is signed by the daemon" \
	xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 "$BODY_FILE"

# 4. schema-invalid: 400 with a pointer, nothing stored
perl -0pe 's#(<Origin>\s*<CountryCode>)[A-Z]+#$1ZZ#; s/IT-VALID-1/IT-BADCOUNTRY/' "$D/v1.xml" >"$D/bad.xml"
sign_file "$D/bad.xml" "$D/bad.signed.xml"
submit "$D/bad.signed.xml"
eq "bad country code -> 400" 400 "$HTTP_CODE"
eq "400 names XSD_INVALID" XSD_INVALID "$(rx "$BODY_FILE" "//*[local-name()='Error'][1]/*[local-name()='ValidationCode']")"
PTR=$(rx "$BODY_FILE" "//*[local-name()='Error'][1]/*[local-name()='Pointer']")
check "400 points at the country code ($PTR)" sh -c "echo '$PTR' | grep -q 'Origin/CountryCode'"
eq "nothing stored for the invalid one" 0 "$(psql_q "SELECT count(*) FROM declarations WHERE lrn = 'IT-BADCOUNTRY'")"

# 5. unsigned: 400 SIG_MISSING
submit "$D/v1.xml"
eq "unsigned -> 400" 400 "$HTTP_CODE"
eq "unsigned names SIG_MISSING" SIG_MISSING "$(rx "$BODY_FILE" "//*[local-name()='ValidationCode']")"

# 6. malformed XML and parser attacks: 400, the daemon keeps answering
printf '<Declaration xmlns="urn:declared:declaration:1"><FunctionCode>9' >"$D/trunc.xml"
submit "$D/trunc.xml"
eq "truncated XML -> 400" 400 "$HTTP_CODE"
eq "truncated XML names XML_MALFORMED" XML_MALFORMED "$(rx "$BODY_FILE" "//*[local-name()='ValidationCode']")"
if [ -d "$VECTORS_DIR" ]; then
	for f in defusedxml-xmltestdata/xmlbomb.xml defusedxml-xmltestdata/external_file.xml \
		defusedxml-xmltestdata/quadratic.xml libxml2-2.9.14-test-recurse/lol1.xml \
		derived/w3c-rsa-xxe-file.xml; do
		submit "$VECTORS_DIR/$f"
		eq "attack $f -> 400" 400 "$HTTP_CODE"
		eq "attack $f names XML_DOCTYPE" XML_DOCTYPE "$(rx "$BODY_FILE" "//*[local-name()='ValidationCode']")"
	done
	sh "$VECTORS_DIR/../tools/gen_parser_attacks.sh" "$TDIR/attacks" 1 >/dev/null 2>&1
	for f in xxe-file.xml billion-laughs.xml deep-100000.xml many-attrs.xml quadratic-content.xml; do
		submit "$TDIR/attacks/$f"
		eq "generated attack $f -> 400" 400 "$HTTP_CODE"
	done
	submit "$TDIR/attacks/huge-text-20MB.xml"
	eq "20 MB body -> 413" 413 "$HTTP_CODE"
else
	echo "skip: vectors not found at $VECTORS_DIR (set VECTORS_DIR)"
fi
submit "$D/v1.signed.xml"
eq "daemon still answers after the attacks" 202 "$HTTP_CODE"

# 7. TLS: no client certificate, officer certificate, wrong CA
curl -s -o /dev/null --cacert "$TDIR/pki/ca.pem" --data-binary @"$D/v1.signed.xml" "$URL"
rc=$?
check "no client certificate -> handshake refused (curl rc=$rc)" [ "$rc" -ne 0 ]
OC=$(curl -s -o /dev/null -w '%{http_code}' --cert "$TDIR/pki/officer.pem" --key "$TDIR/pki/officer.key" \
	--cacert "$TDIR/pki/ca.pem" --data-binary @"$D/v1.signed.xml" "$URL")
eq "officer certificate may not submit -> 403" 403 "$OC"
curl -s -o /dev/null --cert "$TDIR/pki/server.pem" --key "$TDIR/pki/server.key" \
	--cacert "$TDIR/pki/ca.pem" --data-binary @"$D/v1.signed.xml" "$URL"
rc=$?
check "certificate from an unknown CA -> handshake refused (curl rc=$rc)" [ "$rc" -ne 0 ]
check "TLS 1.1 refused" sh -c "! curl -s -o /dev/null --tls-max 1.1 --cert '$TDIR/pki/enterprise.pem' --key '$TDIR/pki/enterprise.key' --cacert '$TDIR/pki/ca.pem' '$URL'"

# 8. many at once over keep-alive, then SIGKILL: every 202 is in the database
"$BUILD/gendecl" --items 5 --count 200 --out "$D/many" --declarant GB000000000001 --lrn KILL >/dev/null
for f in "$D"/many/*.xml; do sign_file "$f" "$f.s"; done
export TDIR URL
ls "$D"/many/*.xml.s | xargs -P 16 -I{} sh -c 'c=$(curl -s --cert "$TDIR/pki/enterprise.pem" \
	--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" -o {}.resp -w "%{http_code}" \
	-H "Content-Type: application/xml" --data-binary @{} "$URL"); echo "$c {}"' >"$D/codes" 2>/dev/null &
CURL_PID=$!
i=0 # SIGKILL once a few have their 202 (and more are in flight), at most 10 s:
# a fixed 0.3 s often killed it before the first 202, proving nothing
while n=$(grep -c '^202 ' "$D/codes" 2>/dev/null); [ "${n:-0}" -lt 5 ] && [ $i -lt 200 ]; do
	sleep 0.05; i=$((i + 1))
done
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null
DAEMON_PID=
wait "$CURL_PID" 2>/dev/null
GOT=$(grep -c '^202 ' "$D/codes")
missing=0
for f in $(grep '^202 ' "$D/codes" | cut -d' ' -f2); do
	# the LRN from the signed document itself: a SIGKILL may cut a response
	# body after its status line
	lrn=$(rx "$f" "/*[local-name()='Declaration']/*[local-name()='FunctionalReferenceID']")
	n=$(psql_q "SELECT count(*) FROM declarations WHERE lrn = '$lrn'")
	[ "$n" = 1 ] || missing=$((missing + 1))
done
echo "after SIGKILL: $GOT declarations had a 202"
check "some declarations had a 202 before the SIGKILL ($GOT)" [ "$GOT" -ge 1 ]
eq "every declaration that got a 202 before SIGKILL is stored once" 0 "$missing"
daemon_start
for f in "$D"/many/*.xml.s; do
	submit "$f"
	[ "$HTTP_CODE" = 202 ] || { not_ok "resubmit after restart $f -> $HTTP_CODE"; break; }
done
eq "after restart and resubmission every declaration is stored exactly once" "200|200" \
	"$(psql_q "SELECT count(*)||'|'||count(DISTINCT lrn) FROM declarations WHERE lrn LIKE 'KILL-%'")"

# 9. the daemon's database role cannot rewrite history
check "events are append-only for the daemon's role" sh -c \
	"! psql -X -q -U declared -d declared -c \"UPDATE events SET reason = 'x'\" 2>/dev/null"
check "events are append-only even for the owner" sh -c \
	"! psql -X -q -U postgres -d declared -c \"DELETE FROM events\" 2>/dev/null"

# 10. metrics and graceful stop
M=$(curl -s "http://127.0.0.1:$ADMIN_PORT/metrics")
printf '%s\n' "$M" >"$TDIR/metrics.txt"
check "metrics count accepted declarations" \
	grep -Eq '^declared_declarations_total\{outcome="accepted"\} [1-9]' "$TDIR/metrics.txt"
# every declaration that went through a store transaction is in each of the
# four stage histograms, once; its work took time
BATCHED=$(echo "$M" | awk '$1 == "declared_batch_size_sum" { print $2 }')
check "metrics: declarations went through store transactions" [ "${BATCHED:-0}" -ge 1 ]
for st in queue work batch_wait commit; do
	eq "metrics: stage $st counts each batched declaration" "$BATCHED" \
		"$(echo "$M" | awk -v k="declared_stage_seconds_count{stage=\"$st\"}" '$1 == k { print $2 }')"
	eq "metrics: stage $st +Inf bucket equals its count" "$BATCHED" \
		"$(echo "$M" | awk -v k="declared_stage_seconds_bucket{stage=\"$st\",le=\"+Inf\"}" '$1 == k { print $2 }')"
done
WORK=$(echo "$M" | awk '$1 == "declared_stage_seconds_sum{stage=\"work\"}" { print ($2 > 0) }')
eq "metrics: workers' time is counted" 1 "$WORK"
daemon_stop
eq "SIGTERM: exit status 0" 0 "$?"
finish
