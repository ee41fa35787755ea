#!/bin/sh
# The customs process at intake: business rules (stored rejections with
# exact pointers), lanes from risk rules, automatic release, amendments and
# cancellations granted or denied by state.
. "$(dirname "$0")/lib.sh"
RISK_RULES_TEXT=$(printf '# test lanes\nhs 9301 red\norigin KP yellow\n')
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
mkdir -p "$D"
code() { rx "$1" "//*[local-name()='Error'][1]/*[local-name()='ValidationCode']"; }
ptr() { rx "$1" "//*[local-name()='Error'][1]/*[local-name()='Pointer']"; }
fc() { rx "$1" "/*[local-name()='Response']/*[local-name()='FunctionCode']"; }
mrn_of() { rx "$1" "/*[local-name()='Response']/*[local-name()='Declaration']/*[local-name()='MRN']"; }
"$BUILD/gendecl" --items 3 --lrn LC-BASE >"$D/base.xml"
# mk LRN PERL-EDIT: a signed variant of the base document
mk() {
	sed "s/LC-BASE/$1/" "$D/base.xml" | perl -0pe "$2" >"$D/$1.xml"
	sign_file "$D/$1.xml" "$D/$1.s"
}

# --- 1. each business rule: stored as rejected, 202, its code and pointer
rule() { # LRN, edit, code, pointer
	mk "$1" "$2"
	submit "$D/$1.s"
	eq "$3: 202 with a rejection receipt" "202 03" "$HTTP_CODE $(fc "$BODY_FILE")"
	eq "$3: code and pointer" "$3 $4" "$(code "$BODY_FILE") $(ptr "$BODY_FILE")"
	eq "$3: stored as rejected with its errors" "rejected|$3" \
		"$(psql_q "SELECT status || '|' || (errors->0->>'code') FROM declarations WHERE lrn = '$1'")"
}
rule LC-QTY 's#<GoodsItemQuantity>3<#<GoodsItemQuantity>4<#' \
	RULE_ITEM_COUNT /Declaration/GoodsItemQuantity
rule LC-SEQ 's#<SequenceNumeric>3<#<SequenceNumeric>2<#' \
	RULE_SEQUENCE '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[3]/SequenceNumeric'
rule LC-MASS 's#(<NetNetWeightMeasure unitCode="KGM">)[0-9.]+#${1}99999.000#' \
	RULE_NET_MASS '/Declaration/GoodsShipment/GovernmentAgencyGoodsItem[1]/Commodity/GoodsMeasure/NetNetWeightMeasure'
rule LC-SUM 's#(<InvoiceAmount currencyID="[A-Z]+">)[0-9.]+#${1}1.00#' \
	RULE_VALUE_SUM /Declaration/InvoiceAmount
rule LC-DATE 's#<IssueDateTime>[^<]+#<IssueDateTime>2099-01-01T00:00:00Z#' \
	RULE_DATE_FUTURE /Declaration/IssueDateTime
eq "no MRN for rejected declarations" 0 \
	"$(psql_q "SELECT count(*) FROM declarations WHERE status = 'rejected' AND mrn IS NOT NULL")"

# --- 2. lanes: green released at once; red and yellow wait for an officer
mk LC-GREEN 's#^##'
submit "$D/LC-GREEN.s"
eq "green: 202 accepted" "202 01" "$HTTP_CODE $(fc "$BODY_FILE")"
eq "green: released automatically, two events, two acknowledgements" "released|green|2|2" \
	"$(psql_q "SELECT status||'|'||lane||'|'||(SELECT count(*) FROM events e WHERE e.declaration_id = d.id)||'|'||(SELECT count(*) FROM acks a WHERE a.declaration_id = d.id) FROM declarations d WHERE lrn = 'LC-GREEN'")"
GREEN_MRN=$(mrn_of "$BODY_FILE")
mk LC-RED 's#(<Classification>\s*<ID>)[0-9]+#${1}93011000#'
submit "$D/LC-RED.s"
eq "red (hs 9301): accepted, not released" "accepted|red|hs 9301" \
	"$(psql_q "SELECT status||'|'||lane||'|'||lane_reason FROM declarations WHERE lrn = 'LC-RED'")"
eq "red: the receipt names the lane" red \
	"$(rx "$BODY_FILE" "//*[local-name()='Lane']")"
RED_MRN=$(mrn_of "$BODY_FILE")
mk LC-YELLOW 's#(<Origin>\s*<CountryCode>)[A-Z]+#${1}KP#'
submit "$D/LC-YELLOW.s"
eq "yellow (origin KP): accepted, not released" "accepted|yellow" \
	"$(psql_q "SELECT status||'|'||lane FROM declarations WHERE lrn = 'LC-YELLOW'")"

# --- 3. amendments and cancellations, by state
request() { # LRN, function code, MRN, extra edit
	mk "$1" "s#<FunctionCode>9</FunctionCode>#<FunctionCode>$2</FunctionCode>#; s#(</FunctionalReferenceID>)#\${1}\n  <ID>$3</ID>#; $4"
}
request LC-AMEND1 13 "$RED_MRN" 's#(<Description>)#${1}Amended: #'
submit "$D/LC-AMEND1.s"
eq "amendment of an accepted declaration: granted (11)" "202 11" "$HTTP_CODE $(fc "$BODY_FILE")"
eq "amendment: version 2 stored, version 1 kept, state unchanged" "2|1|accepted" \
	"$(psql_q "SELECT d.version||'|'||(SELECT count(*) FROM declaration_versions v WHERE v.declaration_id = d.id)||'|'||d.status FROM declarations d WHERE lrn = 'LC-RED'")"
check "amendment: the stored document is the amended one" sh -c \
	"psql -X -A -t -U postgres -d declared -c \"SELECT convert_from(raw, 'UTF8') FROM declarations WHERE lrn = 'LC-RED'\" | grep -q 'Amended: '"
cp "$BODY_FILE" "$D/amend1.receipt"
submit "$D/LC-AMEND1.s"
check "the same amendment again: the original answer, byte for byte" cmp -s "$BODY_FILE" "$D/amend1.receipt"
eq "the same amendment again: still version 2" 2 \
	"$(psql_q "SELECT version FROM declarations WHERE lrn = 'LC-RED'")"

request LC-CANCEL-GREEN 1 "$GREEN_MRN" ''
submit "$D/LC-CANCEL-GREEN.s"
eq "cancellation of a released declaration: denied" "202 11 CANCELLATION_DENIED" \
	"$HTTP_CODE $(fc "$BODY_FILE") $(code "$BODY_FILE")"
eq "denied cancellation: still released" released \
	"$(psql_q "SELECT status FROM declarations WHERE lrn = 'LC-GREEN'")"

request LC-CANCEL-RED 1 "$RED_MRN" ''
submit "$D/LC-CANCEL-RED.s"
eq "cancellation of an accepted declaration: granted (10)" "202 10" "$HTTP_CODE $(fc "$BODY_FILE")"
eq "granted cancellation: cancelled" cancelled \
	"$(psql_q "SELECT status FROM declarations WHERE lrn = 'LC-RED'")"
request LC-AMEND2 13 "$RED_MRN" ''
submit "$D/LC-AMEND2.s"
eq "amendment of a cancelled declaration: denied" "202 AMENDMENT_DENIED" \
	"$HTTP_CODE $(code "$BODY_FILE")"
request LC-UNKNOWN 13 26GB00000999999990 ''
submit "$D/LC-UNKNOWN.s"
eq "amendment of an unknown MRN: UNKNOWN_MRN" "202 UNKNOWN_MRN" "$HTTP_CODE $(code "$BODY_FILE")"
mk LC-NOMRN 's#<FunctionCode>9</FunctionCode>#<FunctionCode>13</FunctionCode>#'
submit "$D/LC-NOMRN.s"
eq "amendment without an MRN: 400 FIELD_MISSING" "400 FIELD_MISSING" "$HTTP_CODE $(code "$BODY_FILE")"

# --- 4. history: every transition is one event and one acknowledgement
eq "LC-RED history: accepted, amendment granted, cancelled, amendment denied" \
	"->accepted|accepted->accepted|accepted->cancelled|cancelled->cancelled" \
	"$(psql_q "SELECT string_agg(coalesce(from_status,'')||'->'||to_status, '|' ORDER BY e.id) FROM events e JOIN declarations d ON d.id = e.declaration_id WHERE d.lrn = 'LC-RED'")"
eq "acknowledgement sequence of the party is gapless" "1" \
	"$(psql_q "SELECT (max(seq) = count(*))::int FROM acks WHERE party = 'GB000000000001'")"
finish
