#!/bin/sh
# Signed declarations: the real-world corpus through the CDS profile, each
# kind of bad signature with its own code, representation, xmlsec1 interop.
. "$(dirname "$0")/lib.sh"
HAVE_CORPUS=
if [ -f "$CORPUS_DIR/hmrc-dec-dms/INDEX.tsv" ]; then
	HAVE_CORPUS=1
	EXTRA_PROFILE=$(sed "s#@CORPUS@#$CORPUS_DIR#g" "$ROOT/tests/data/conf/profile-cds.conf")
else
	echo "skip: corpus not found at $CORPUS_DIR (set CORPUS_DIR): CDS part skipped"
fi
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
mkdir -p "$D"
PKI=$TDIR/pki
URL=https://127.0.0.1:$API_PORT/v1/declarations
code() { rx "$1" "//*[local-name()='Error'][1]/*[local-name()='ValidationCode']"; }

# --- 1. the HMRC corpus, signed by the enterprise, through the CDS profile
if [ -n "$HAVE_CORPUS" ]; then
	C=$CORPUS_DIR/hmrc-dec-dms
	grep -P '\tdec-valid\t' "$C/INDEX.tsv" | cut -f1 >"$D/valid.list"
	n=0
	: >"$D/expect"
	while read -r f; do
		n=$((n + 1))
		lrn=$(xmllint --xpath "string(/*/*[local-name()='Declaration']/*[local-name()='FunctionalReferenceID'])" "$C/$f")
		dec=$(xmllint --xpath "string(/*/*[local-name()='Declaration']/*[local-name()='Declarant']/*[local-name()='ID'])" "$C/$f")
		fc=$(xmllint --xpath "string(/*/*[local-name()='Declaration']/*[local-name()='FunctionCode'])" "$C/$f")
		printf '%s\t%s\t%s\t%s\n' "$D/c$n.xml" "$fc" "$dec" "$lrn" >>"$D/expect"
		sign_file "$C/$f" "$D/c$n.xml" || not_ok "sign $f"
	done <"$D/valid.list"
	# the enterprise is the declarants' authorised representative
	cut -f3 "$D/expect" | sort -u | grep . | while read -r dec; do
		psql_q "INSERT INTO representations (agent, principal) VALUES ('GB000000000001', '$dec') ON CONFLICT DO NOTHING" >/dev/null
	done
	export TDIR URL
	cut -f1 "$D/expect" | xargs -P 8 -I{} sh -c 'c=$(curl -s --cert "$TDIR/pki/enterprise.pem" \
		--key "$TDIR/pki/enterprise.key" --cacert "$TDIR/pki/ca.pem" -o {}.resp -w "%{http_code}" \
		-H "Content-Type: application/xml" --data-binary @{} "$URL"); echo "{} $c"' >"$D/codes"
	orig=$(awk -F'\t' '$2 == "9"' "$D/expect" | wc -l)
	pairs=$(awk -F'\t' '$2 == "9" {print $3 "|" $4}' "$D/expect" | sort -u | wc -l)
	reqs=$(awk -F'\t' '$2 == "13"' "$D/expect" | wc -l)
	echo "corpus: $n files: $orig originals ($pairs distinct declarant+LRN), $reqs amendment/cancellation requests"
	eq "corpus: every original with a distinct declarant+LRN is stored" "$pairs" \
		"$(psql_q "SELECT count(*) FROM declarations WHERE profile = 'cds'")"
	bad=0
	awk -F'\t' '$2 == "9" {print $3 "|" $4}' "$D/expect" | sort -u >"$D/pairs.want"
	psql_q "SELECT declarant || '|' || lrn FROM declarations WHERE profile = 'cds'" | sort >"$D/pairs.got"
	check "corpus: stored LRN and declarant equal the documents' own" cmp -s "$D/pairs.want" "$D/pairs.got"
	got202=$(grep -c ' 202$' "$D/codes")
	got409=$(grep -c ' 409$' "$D/codes")
	# files that reuse a declarant+LRN with other bytes must get 409; the
	# same bytes again get the original receipt
	conflicts=$(awk -F'\t' '$2 == "9" {print $1 "\t" $3 "|" $4}' "$D/expect" | while IFS="$(printf '\t')" read -r f k; do
		printf '%s %s\n' "$k" "$(sha256sum <"$f" | cut -c1-16)"; done | sort -u |
		awk '{n[$1]++} END {c = 0; for (k in n) c += n[k] - 1; print c}')
	eq "corpus: every file answered 202, but LRNs reused with other bytes (409)" \
		"$n" "$((got202 + got409))"
	eq "corpus: 409 exactly for originals that reuse a declarant+LRN with other bytes" \
		"$conflicts" "$got409"
	eq "corpus: every amendment or cancellation request recorded (their MRNs are not ours)" \
		"$reqs|$reqs" "$(psql_q "SELECT count(*) || '|' || count(*) FILTER (WHERE outcome = 'unknown') FROM requests WHERE profile = 'cds'")"
	f=$(awk -F'\t' '$2 == "13" {print $1; exit}' "$D/expect")
	eq "corpus: a request for an unknown MRN is answered UNKNOWN_MRN" UNKNOWN_MRN "$(code "$f.resp")"
	# the back-end wrapper and HMRC's malformed file are refused
	grep -P '\tmdg-wrapped' "$C/INDEX.tsv" | head -n 3 | cut -f1 | while read -r f; do
		sign_file "$C/$f" "$D/mdg.xml"
		submit "$D/mdg.xml"
		echo "$HTTP_CODE $(code "$BODY_FILE")" >>"$D/mdg.codes"
	done
	eq "corpus: mdg-wrapped declarations -> 400 PROFILE_UNKNOWN" "3" \
		"$(grep -c '^400 PROFILE_UNKNOWN$' "$D/mdg.codes")"
	f=$(grep -P '\tmalformed-xml' "$C/INDEX.tsv" | cut -f1)
	submit "$C/$f"
	eq "corpus: HMRC's malformed file -> 400 XML_MALFORMED" "400 XML_MALFORMED" "$HTTP_CODE $(code "$BODY_FILE")"
	# the CDS sample signed by a third party with the xmlsec test CA is not trusted here
	submit "$CORPUS_DIR/signed-samples/TT_IM001a.signed-rsa-sha256.xml"
	eq "corpus: signed by a CA that is not configured -> 403 SIG_CERT_UNTRUSTED" \
		"403 SIG_CERT_UNTRUSTED" "$HTTP_CODE $(code "$BODY_FILE")"
fi

# --- 2. each kind of bad signature on the project's own format
"$BUILD/gendecl" --items 3 --lrn SIG-BASE >"$D/base.xml"
mk() { # LRN -> an unsigned document with that LRN
	sed "s/SIG-BASE/$1/" "$D/base.xml" >"$D/$1.xml"
}
mk SIG-OK; sign_file "$D/SIG-OK.xml" "$D/SIG-OK.s"
submit "$D/SIG-OK.s"
eq "well signed -> 202" 202 "$HTTP_CODE"

mk SIG-BYTE; sign_file "$D/SIG-BYTE.xml" "$D/SIG-BYTE.s"
sed -i 's#<Description>\(.\)#<Description>X\1#' "$D/SIG-BYTE.s"
submit "$D/SIG-BYTE.s"
eq "a changed byte -> 400 SIG_INVALID" "400 SIG_INVALID" "$HTTP_CODE $(code "$BODY_FILE")"

mk SIG-WRAP; sign_file "$D/SIG-WRAP.xml" "$D/SIG-WRAP.s"
perl -0pi -e 's#(<ds:Signature.*</ds:Signature>)#<AdditionalInformation>$1</AdditionalInformation>#s' "$D/SIG-WRAP.s"
submit "$D/SIG-WRAP.s"
eq "a wrapped signature -> 400 SIG_MISSING (no Signature child of the root)" "400" "$HTTP_CODE"
check "a wrapped signature is refused with a SIG_ code ($(code "$BODY_FILE"))" \
	sh -c "echo '$(code "$BODY_FILE")' | grep -q '^SIG_'"

mk SIG-TWO; sign_file "$D/SIG-TWO.xml" "$D/SIG-TWO.s"
perl -0pi -e 's#(<ds:Signature.*</ds:Signature>)#$1$1#s' "$D/SIG-TWO.s"
submit "$D/SIG-TWO.s"
eq "a second Signature -> 400 SIG_STRUCTURE" "400 SIG_STRUCTURE" "$HTTP_CODE $(code "$BODY_FILE")"

"$DECLCTL" pki issue "$PKI" --ca ca --kind signer --party GB000000000001 --out foreign --rsa 2048 >/dev/null
mk SIG-FOREIGN
"$DECLCTL" sign --sign-cert "$PKI/foreign.pem" --sign-key "$PKI/foreign.key" --out "$D/SIG-FOREIGN.s" "$D/SIG-FOREIGN.xml"
submit "$D/SIG-FOREIGN.s"
eq "a certificate from another CA -> 403 SIG_CERT_UNTRUSTED" "403 SIG_CERT_UNTRUSTED" "$HTTP_CODE $(code "$BODY_FILE")"

"$DECLCTL" pki issue "$PKI" --ca signing-ca --kind signer --party GB000000000001 --out expired --expired >/dev/null
mk SIG-EXPIRED
"$DECLCTL" sign --sign-cert "$PKI/expired.pem" --sign-key "$PKI/expired.key" --out "$D/SIG-EXPIRED.s" "$D/SIG-EXPIRED.xml" 2>/dev/null
submit "$D/SIG-EXPIRED.s"
eq "an expired certificate -> 403 SIG_CERT_EXPIRED" "403 SIG_CERT_EXPIRED" "$HTTP_CODE $(code "$BODY_FILE")"

"$DECLCTL" pki issue "$PKI" --ca signing-ca --kind signer --party GB000000000077 --out other --rsa 2048 >/dev/null
mk SIG-OTHER
"$DECLCTL" sign --sign-cert "$PKI/other.pem" --sign-key "$PKI/other.key" --out "$D/SIG-OTHER.s" "$D/SIG-OTHER.xml"
submit "$D/SIG-OTHER.s"
eq "signed by another party, not a representative -> 403 SIG_PARTY" "403 SIG_PARTY" "$HTTP_CODE $(code "$BODY_FILE")"
psql_q "INSERT INTO representations (agent, principal) VALUES ('GB000000000077', 'GB000000000001')" >/dev/null
submit "$D/SIG-OTHER.s"
eq "signed by the declarant's authorised representative -> 202" 202 "$HTTP_CODE"

sed 's#<Declarant>\s*<ID>GB000000000001</ID>#<Declarant><ID>GB000000000055</ID>#' "$D/base.xml" |
	sed 's/SIG-BASE/SIG-FOR55/' >"$D/SIG-FOR55.xml"
perl -0pi -e 's#(<Declarant>\s*<ID>)GB000000000001#${1}GB000000000055#' "$D/SIG-FOR55.xml"
sign_file "$D/SIG-FOR55.xml" "$D/SIG-FOR55.s"
submit "$D/SIG-FOR55.s"
eq "declaring for a party one does not represent -> 403 PARTY_NOT_AUTHORISED" \
	"403 PARTY_NOT_AUTHORISED" "$HTTP_CODE $(code "$BODY_FILE")"
psql_q "INSERT INTO representations (agent, principal) VALUES ('GB000000000001', 'GB000000000055')" >/dev/null
submit "$D/SIG-FOR55.s"
eq "declaring for a represented principal -> 202" 202 "$HTTP_CODE"
eq "the principal is the stored declarant" "GB000000000055|GB000000000001" \
	"$(psql_q "SELECT declarant || '|' || submitter FROM declarations WHERE lrn = 'SIG-FOR55'")"

# --- 3. revocation: revoke the signer, configure the CRL, reload by restart
"$DECLCTL" pki issue "$PKI" --ca signing-ca --kind signer --party GB000000000001 --out revoked --rsa 2048 >/dev/null
mk SIG-REVOKED
"$DECLCTL" sign --sign-cert "$PKI/revoked.pem" --sign-key "$PKI/revoked.key" --out "$D/SIG-REVOKED.s" "$D/SIG-REVOKED.xml"
"$DECLCTL" pki revoke "$PKI" --ca signing-ca --cert "$PKI/revoked.pem" >/dev/null
daemon_stop
SIGNING_CRL=$PKI/signing-ca.crl.pem
write_config "$TDIR/declared.conf" declared
daemon_start
submit "$D/SIG-REVOKED.s"
eq "a revoked certificate -> 403 SIG_CERT_REVOKED" "403 SIG_CERT_REVOKED" "$HTTP_CODE $(code "$BODY_FILE")"
eq "nothing stored for any refused signature" 0 \
	"$(psql_q "SELECT count(*) FROM declarations WHERE lrn IN ('SIG-BYTE','SIG-WRAP','SIG-TWO','SIG-FOREIGN','SIG-EXPIRED','SIG-REVOKED')")"

# --- 4. interop: a document signed by the xmlsec1 command line
mk SIG-XMLSEC
perl -0pi -e 's{</Declaration>\s*$}{<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature></Declaration>\n}' "$D/SIG-XMLSEC.xml"
xmlsec1 --sign --privkey-pem "$PKI/enterprise-sign.key,$PKI/enterprise-sign.pem" \
	--output "$D/SIG-XMLSEC.s" "$D/SIG-XMLSEC.xml" 2>"$D/xmlsec.err"
check "xmlsec1 signed the template" [ -s "$D/SIG-XMLSEC.s" ]
submit "$D/SIG-XMLSEC.s"
eq "a document signed by the xmlsec1 command line -> 202" 202 "$HTTP_CODE"
check "the daemon's receipt verifies with the xmlsec1 command line" \
	xmlsec1 --verify --trusted-pem "$PKI/ca.pem" --enabled-key-data x509 "$BODY_FILE"
finish
