#!/bin/sh
# The officer web console in headless Chromium (tests/browser/console.test.mjs):
# with an officer certificate it opens the console, finds a declaration,
# releases it, and finds the release acknowledgement in the enterprise's
# feed.  Installs Debian's chromium and the npm dependencies when missing
# (as root); skips, saying why, only when Chromium cannot be had.
#   SCREENSHOTS  also copy the screenshots to this directory
. "$(dirname "$0")/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
BDIR=$ROOT/tests/browser

if [ ! -x "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
	echo "installing chromium (apt-get)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/tmp/declared-chromium-apt.log 2>&1 ||
		{ apt-get update >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/tmp/declared-chromium-apt.log 2>&1; }
fi
if [ ! -x "$CHROMIUM" ]; then
	echo "skip: no Chromium at $CHROMIUM and it cannot be installed here (set CHROMIUM=...)"
	echo "0 passed, 0 failed"
	exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm >/dev/null 2>&1
	fi
fi
command -v node >/dev/null || { echo "no node: cannot run the browser test"; echo "0 passed, 1 failed"; exit 1; }
if [ ! -d "$BDIR/node_modules/playwright-core" ]; then
	(cd "$BDIR" && npm ci --no-audit --no-fund >/tmp/declared-npm.log 2>&1) ||
		{ echo "npm ci failed"; cat /tmp/declared-npm.log; echo "0 passed, 1 failed"; exit 1; }
fi

AUTO_RELEASE=no
setup_all || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
D=$TDIR/docs
mkdir -p "$D"
"$BUILD/gendecl" --items 4 --count 3 --seed 7 --out "$D" --declarant GB000000000001 --lrn WEB >/dev/null
for f in "$D"/*.xml; do
	sign_file "$f" "$f.s" && submit "$f.s"
	[ "$HTTP_CODE" = 202 ] || not_ok "submit $f -> $HTTP_CODE"
done
eq "the target declaration waits for an officer" accepted \
	"$(psql_q "SELECT status FROM declarations WHERE lrn = 'WEB-000002'")"

mkdir -p "$TDIR/shots"
DECLARED_URL=https://127.0.0.1:$API_PORT PKI_DIR=$TDIR/pki TARGET_LRN=WEB-000002 \
	SHOT_DIR=$TDIR/shots CHROMIUM=$CHROMIUM \
	node --test --test-reporter=spec "$BDIR/console.test.mjs" >"$TDIR/node.log" 2>&1
rc=$?
cat "$TDIR/node.log"
eq "browser test (node --test) passes" 0 "$rc"
eq "the release is stored: event by OFF0001, acknowledgement 08" "released|OFF0001|08" \
	"$(psql_q "SELECT d.status, e.actor, a.kind FROM declarations d
		JOIN events e ON e.declaration_id = d.id AND e.action = 'release'
		JOIN acks a ON a.declaration_id = d.id AND a.kind = '08' WHERE d.lrn = 'WEB-000002'")"
check "four screenshots saved" [ "$(ls "$TDIR/shots"/*.png 2>/dev/null | wc -l)" -eq 4 ]
[ -f "$TDIR/shots/release-ack.xml" ] && check "the acknowledgement the browser test found verifies with xmlsec1" \
	xmlsec1 --verify --trusted-pem "$TDIR/pki/ca.pem" --enabled-key-data x509 "$TDIR/shots/release-ack.xml"
if [ -n "${SCREENSHOTS:-}" ]; then
	mkdir -p "$SCREENSHOTS" && cp "$TDIR/shots"/*.png "$SCREENSHOTS"/ && echo "screenshots copied to $SCREENSHOTS"
fi
daemon_stop
finish
