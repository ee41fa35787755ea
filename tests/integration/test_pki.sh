#!/bin/sh
# declctl pki: builds a demo PKI in a temporary directory and checks every
# file with the openssl command line (independent of declctl's own code):
# chains, subjects, extensions, key types, permissions, refusal to
# overwrite, expired certificates and CRLs.
# usage: tests/integration/test_pki.sh [BUILD_DIR]  (default: $BUILD, else build)
set -u
B=${1:-${BUILD:-build}}
DECLCTL=${DECLCTL:-$B/declctl}
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; }
# check NAME COMMAND...: passes when COMMAND succeeds
check() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$name"; else ko "$name"; fi
}
# check_not NAME COMMAND...: passes when COMMAND fails
check_not() {
	name=$1
	shift
	if "$@" >/dev/null 2>&1; then ko "$name"; else ok "$name"; fi
}
# check_out NAME PATTERN COMMAND...: passes when the output (stdout and
# stderr) of COMMAND matches the extended regular expression PATTERN
check_out() {
	name=$1
	pat=$2
	shift 2
	if "$@" 2>&1 | grep -Eq -- "$pat"; then ok "$name"; else ko "$name"; fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

if [ ! -x "$DECLCTL" ]; then
	echo "test_pki: $DECLCTL not built"
	fail=1
	finish
fi
command -v openssl >/dev/null || { echo "test_pki: openssl not found"; fail=1; finish; }

T=$(mktemp -d "${TMPDIR:-/tmp}/test_pki.XXXXXX")
trap 'rm -rf "$T"' EXIT INT TERM
D=$T/pki

# --- init --------------------------------------------------------------
check "pki init" "$DECLCTL" pki init "$D"
for f in ca server enterprise-ca officer-ca signing-ca enterprise \
    enterprise-sign officer acksign; do
	if [ -s "$D/$f.pem" ] && [ -s "$D/$f.key" ]; then ok "exists $f"; else ko "exists $f"; fi
done

# --- chains ------------------------------------------------------------
check "chain server <- ca" openssl verify -CAfile "$D/ca.pem" "$D/server.pem"
check "chain acksign <- ca" openssl verify -CAfile "$D/ca.pem" "$D/acksign.pem"
check "chain enterprise <- enterprise-ca" \
    openssl verify -CAfile "$D/enterprise-ca.pem" "$D/enterprise.pem"
check "chain enterprise-sign <- signing-ca" \
    openssl verify -CAfile "$D/signing-ca.pem" "$D/enterprise-sign.pem"
check "chain officer <- officer-ca" \
    openssl verify -CAfile "$D/officer-ca.pem" "$D/officer.pem"
check_not "enterprise does not chain to officer-ca" \
    openssl verify -CAfile "$D/officer-ca.pem" "$D/enterprise.pem"
check_not "enterprise-sign does not chain to ca" \
    openssl verify -CAfile "$D/ca.pem" "$D/enterprise-sign.pem"
check "purpose sslserver" openssl verify -purpose sslserver -CAfile "$D/ca.pem" "$D/server.pem"
check "purpose sslclient" openssl verify -purpose sslclient \
    -CAfile "$D/enterprise-ca.pem" "$D/enterprise.pem"
check_not "client cert is not a server cert" openssl verify -purpose sslserver \
    -CAfile "$D/enterprise-ca.pem" "$D/enterprise.pem"

# --- subjects and extensions --------------------------------------------
subj() { openssl x509 -in "$D/$1.pem" -noout -subject -nameopt RFC2253; }
text() { openssl x509 -in "$D/$1.pem" -noout -text; }
check_out "enterprise serialNumber" 'serialNumber=GB000000000001' subj enterprise
check_out "enterprise CN" 'CN=Demo Trader Ltd' subj enterprise
check_out "enterprise-sign serialNumber" 'serialNumber=GB000000000001' subj enterprise-sign
check_out "officer serialNumber" 'serialNumber=OFF0001' subj officer
check_out "officer CN" 'CN=Officer One' subj officer
check_out "ca CN" 'CN=declared demo CA' subj ca
check_out "acksign CN" 'CN=declared acknowledgement signer' subj acksign
check_out "server SAN" 'DNS:localhost, IP Address:127.0.0.1' text server
check_out "server serverAuth" 'TLS Web Server Authentication' text server
check_out "enterprise clientAuth" 'TLS Web Client Authentication' text enterprise
check_out "officer clientAuth" 'TLS Web Client Authentication' text officer
check_out "ca is a CA" 'CA:TRUE' text ca
check_out "signing-ca is a CA" 'CA:TRUE' text signing-ca
check_out "enterprise-sign nonRepudiation" 'Digital Signature, Non Repudiation' text enterprise-sign
check_out "enterprise-sign not a CA" 'CA:FALSE' text enterprise-sign

# --- keys --------------------------------------------------------------
for f in ca server enterprise-ca officer-ca signing-ca enterprise \
    enterprise-sign officer acksign; do
	m=$(stat -c %a "$D/$f.key")
	if [ "$m" = 600 ]; then ok "mode 0600 $f.key"; else ko "mode 0600 $f.key ($m)"; fi
done
check_out "acksign is EC P-256" 'prime256v1|P-256' text acksign
check_out "acksign key is EC" 'ASN1 OID: prime256v1|NIST CURVE: P-256' \
    openssl pkey -in "$D/acksign.key" -noout -text
check_out "enterprise-sign is RSA 2048" 'Public-Key: \(2048 bit\)' text enterprise-sign
check_out "enterprise-sign rsaEncryption" 'rsaEncryption' text enterprise-sign
check "enterprise key matches cert" sh -c \
    "[ \"\$(openssl x509 -in '$D/enterprise.pem' -noout -pubkey)\" = \
       \"\$(openssl pkey -in '$D/enterprise.key' -pubout)\" ]"

# --- serials and validity ----------------------------------------------
s1=$(openssl x509 -in "$D/enterprise.pem" -noout -serial)
s2=$(openssl x509 -in "$D/officer.pem" -noout -serial)
if [ "$s1" != "$s2" ] && [ ${#s1} -ge 30 ]; then ok "random serials"; else ko "random serials ($s1 $s2)"; fi
check "valid for 800 more days" openssl x509 -in "$D/server.pem" -noout -checkend $((800 * 86400))
check_not "not valid for 826 more days" openssl x509 -in "$D/server.pem" -noout -checkend $((826 * 86400))

# --- refuse to overwrite -----------------------------------------------
before=$(cat "$D/ca.pem")
check_not "init refuses to overwrite" "$DECLCTL" pki init "$D"
if [ "$(cat "$D/ca.pem")" = "$before" ]; then ok "ca.pem unchanged"; else ko "ca.pem unchanged"; fi
check "init --force replaces" "$DECLCTL" pki init --force "$D" --party GB123456789000 --officer OFF0042
if [ "$(cat "$D/ca.pem")" != "$before" ]; then ok "ca.pem replaced"; else ko "ca.pem replaced"; fi
check_out "--party" 'serialNumber=GB123456789000' subj enterprise
check_out "--officer" 'serialNumber=OFF0042' subj officer
m=$(stat -c %a "$D/ca.key")
if [ "$m" = 600 ]; then ok "mode 0600 after --force"; else ko "mode 0600 after --force ($m)"; fi

# --- issue -------------------------------------------------------------
check "issue other party" "$DECLCTL" pki issue "$D" --ca enterprise-ca \
    --party GB999999999999 --cn "Other Trader" --out other
check "other chains" openssl verify -CAfile "$D/enterprise-ca.pem" "$D/other.pem"
check_out "other serialNumber" 'serialNumber=GB999999999999' subj other
check_not "issue refuses to overwrite" "$DECLCTL" pki issue "$D" --ca enterprise-ca \
    --party GB1 --out other
check "issue RSA signer" "$DECLCTL" pki issue "$D" --ca signing-ca --party GB999999999999 \
    --rsa 3072 --out other-sign
check_out "RSA 3072" 'Public-Key: \(3072 bit\)' text other-sign
check "issue --expired" "$DECLCTL" pki issue "$D" --ca signing-ca --party GB999999999999 \
    --expired --out expired
check_out "expired cert rejected" 'certificate has expired' \
    openssl verify -CAfile "$D/signing-ca.pem" "$D/expired.pem"
check_not "expired cert fails verify" openssl verify -CAfile "$D/signing-ca.pem" "$D/expired.pem"
check_not "issue from a non-CA" "$DECLCTL" pki issue "$D" --ca enterprise \
    --party GB1 --out x
check_not "issue with a path as --out" "$DECLCTL" pki issue "$D" --ca enterprise-ca \
    --party GB1 --out ../x

# --- CRLs --------------------------------------------------------------
check "crl (empty)" "$DECLCTL" pki crl "$D" --ca enterprise-ca
check "crl well-formed" openssl crl -in "$D/enterprise-ca.crl.pem" -noout \
    -CAfile "$D/enterprise-ca.pem"
check "unrevoked passes crl_check" openssl verify -crl_check -CAfile "$D/enterprise-ca.pem" \
    -CRLfile "$D/enterprise-ca.crl.pem" "$D/other.pem"
check "revoke other" "$DECLCTL" pki revoke "$D" --ca enterprise-ca --cert "$D/other.pem"
check_out "revoked rejected" 'certificate revoked' openssl verify -crl_check \
    -CAfile "$D/enterprise-ca.pem" -CRLfile "$D/enterprise-ca.crl.pem" "$D/other.pem"
check_not "revoked fails verify" openssl verify -crl_check \
    -CAfile "$D/enterprise-ca.pem" -CRLfile "$D/enterprise-ca.crl.pem" "$D/other.pem"
check "others still pass crl_check" openssl verify -crl_check \
    -CAfile "$D/enterprise-ca.pem" -CRLfile "$D/enterprise-ca.crl.pem" "$D/enterprise.pem"
check_not "revoke with the wrong CA" "$DECLCTL" pki revoke "$D" --ca officer-ca \
    --cert "$D/other.pem"
check "revoke enterprise too" "$DECLCTL" pki revoke "$D" --ca enterprise-ca \
    --cert "$D/enterprise.pem"
check "revoke again is harmless" "$DECLCTL" pki revoke "$D" --ca enterprise-ca \
    --cert "$D/other.pem"
n=$(openssl crl -in "$D/enterprise-ca.crl.pem" -noout -text 2>/dev/null | grep -c 'Serial Number')
if [ "$n" = 2 ]; then ok "CRL keeps both serials"; else ko "CRL keeps both serials ($n)"; fi
check_out "first revocation still in the CRL" 'certificate revoked' openssl verify -crl_check \
    -CAfile "$D/enterprise-ca.pem" -CRLfile "$D/enterprise-ca.crl.pem" "$D/other.pem"
check "crl regenerates from .revoked" "$DECLCTL" pki crl "$D" --ca enterprise-ca
n=$(openssl crl -in "$D/enterprise-ca.crl.pem" -noout -text 2>/dev/null | grep -c 'Serial Number')
if [ "$n" = 2 ]; then ok "regenerated CRL keeps serials"; else ko "regenerated CRL keeps serials ($n)"; fi

finish
