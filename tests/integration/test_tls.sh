#!/bin/sh
# TLS posture of the API listener, checked from outside with sslscan
# (Debian's; installed here when root and missing) and openssl s_client:
# TLS 1.2 and 1.3 only, AEAD suites only (no CBC, no SHA-1 MAC), and client
# certificates that are wrong, expired, revoked (the [tls] crl) or missing
# refused in the handshake.
. "$(dirname "$0")/lib.sh"
if ! command -v sslscan >/dev/null && [ "$(id -u)" = 0 ]; then
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		sslscan >/dev/null 2>&1 || true
fi
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
P=$TDIR/pki
A=127.0.0.1:$API_PORT
U=https://$A/v1/nothing

# revoked and expired client certificates, a foreign CA, and the CRL
"$DECLCTL" pki issue "$P" --ca enterprise-ca --party GB000000000002 --out expired --expired >/dev/null
"$DECLCTL" pki issue "$P" --ca enterprise-ca --party GB000000000003 --out revoked >/dev/null
"$DECLCTL" pki revoke "$P" --ca enterprise-ca --cert "$P/revoked.pem" >/dev/null
"$DECLCTL" pki crl "$P" --ca officer-ca >/dev/null
cat "$P/enterprise-ca.crl.pem" "$P/officer-ca.crl.pem" >"$P/clients.crl"
"$DECLCTL" pki init "$TDIR/foreign" >/dev/null
sed -i "s#^\[tls\]\$#[tls]\ncrl = $P/clients.crl#" "$TDIR/declared.conf"
daemon_stop
daemon_start || { echo "restart with the CRL failed"; echo "0 passed, 1 failed"; exit 1; }

# 1. sslscan: protocols and suites
if command -v sslscan >/dev/null; then
	sslscan --no-colour --certs="$P/enterprise.pem" --pk="$P/enterprise.key" "$A" \
		>"$TDIR/sslscan.out" 2>&1
	for v in SSLv2 SSLv3 TLSv1.0 TLSv1.1; do
		check "sslscan: $v disabled" grep -Eq "^$v +disabled" "$TDIR/sslscan.out"
	done
	for v in TLSv1.2 TLSv1.3; do
		check "sslscan: $v enabled" grep -Eq "^$v +enabled" "$TDIR/sslscan.out"
	done
	grep -E '^(Preferred|Accepted) ' "$TDIR/sslscan.out" | awk '{ print $2, $5 }' >"$TDIR/suites"
	cat "$TDIR/suites"
	check "sslscan: suites were listed" test -s "$TDIR/suites"
	eq "sslscan: no suite outside TLS 1.2 and 1.3" 0 "$(grep -cvE '^TLSv1\.[23] ' "$TDIR/suites")"
	eq "sslscan: every suite is AEAD (GCM, CHACHA20-POLY1305 or CCM): no CBC" 0 \
		"$(grep -cvE 'GCM|CHACHA20|CCM' "$TDIR/suites")"
	eq "sslscan: no SHA-1 MAC suite" 0 "$(grep -cE -- '-SHA$|_SHA$' "$TDIR/suites")"
	eq "sslscan: no RC4, 3DES, NULL, export or anonymous suite" 0 \
		"$(grep -ciE 'RC4|DES|NULL|EXP|ADH|AECDH|anon' "$TDIR/suites")"
	check "sslscan: no renegotiation" grep -q 'renegotiation not supported' "$TDIR/sslscan.out"
	eq "sslscan: not vulnerable to heartbleed" 0 \
		"$(grep -cE '^TLSv[0-9.]+ +vulnerable to heartbleed' "$TDIR/sslscan.out")"
else
	echo "skip: sslscan not installed (apt-get install sslscan); checking with openssl only"
fi

# 2. the same from openssl s_client, which CI always has
sc() { # ARGS...: 0 when the handshake with the enterprise certificate completes
	openssl s_client -connect "$A" -cert "$P/enterprise.pem" -key "$P/enterprise.key" \
		-CAfile "$P/ca.pem" "$@" </dev/null >"$TDIR/sc.out" 2>&1 &&
		grep -q 'Verify return code: 0' "$TDIR/sc.out" && ! grep -q 'alert' "$TDIR/sc.out" ||
		{ sed 's/^/# /' "$TDIR/sc.out"; return 1; }
}
check "s_client: TLS 1.3 handshake" sc -tls1_3
check "s_client: TLS 1.2 handshake" sc -tls1_2
check "s_client: TLS 1.1 refused" sh -c "! openssl s_client -connect $A -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' \
	-cert '$P/enterprise.pem' -key '$P/enterprise.key' </dev/null >/dev/null 2>&1"
check "s_client: TLS 1.0 refused" sh -c "! openssl s_client -connect $A -tls1 -cipher 'DEFAULT:@SECLEVEL=0' \
	-cert '$P/enterprise.pem' -key '$P/enterprise.key' </dev/null >/dev/null 2>&1"
for c in ECDHE-RSA-AES128-SHA ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES128-SHA256 \
	ECDHE-ECDSA-AES256-SHA384 AES128-SHA AES128-GCM-SHA256 AES256-SHA256 DES-CBC3-SHA; do
	check "s_client: TLS 1.2 suite $c refused" sh -c "! openssl s_client -connect $A -tls1_2 \
		-cipher '$c:@SECLEVEL=0' -cert '$P/enterprise.pem' -key '$P/enterprise.key' </dev/null >/dev/null 2>&1"
done

# 3. client certificates: each bad one refused, the good one served
code() { # CERT KEY: the HTTP status, 000 when the handshake failed
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 ${1:+--cert "$1" --key "$2"} \
		--cacert "$P/ca.pem" "$U"
}
eq "valid enterprise certificate: served" 404 "$(code "$P/enterprise.pem" "$P/enterprise.key")"
eq "expired client certificate: refused" 000 "$(code "$P/expired.pem" "$P/expired.key")"
eq "revoked client certificate (CRL): refused" 000 "$(code "$P/revoked.pem" "$P/revoked.key")"
eq "certificate of a foreign CA: refused" 000 \
	"$(code "$TDIR/foreign/enterprise.pem" "$TDIR/foreign/enterprise.key")"
eq "server certificate used as a client certificate: refused" 000 \
	"$(code "$P/server.pem" "$P/server.key")"
eq "no client certificate: refused" 000 "$(code "" "")"
check "the daemon still serves after the refusals" [ "$(code "$P/enterprise.pem" "$P/enterprise.key")" = 404 ]
daemon_stop
eq "SIGTERM: exit status 0" 0 "$?"
finish
