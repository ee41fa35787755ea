#!/bin/sh
# Runs the suite: every CUnit binary, then every integration script.
# usage: tests/run.sh BUILD_DIR [unit|integration]
# Ends with one line "suite: N passed, N failed" over all of them.
B=${1:-build}
WHAT=${2:-all}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
pass=0
fail=0
failed=""
run() { # name, command...
	name=$1; shift
	log=$(mktemp)
	start=$(date +%s)
	if "$@" >"$log" 2>&1; then
		pass=$((pass + 1)); st=ok
	else
		fail=$((fail + 1)); st=FAIL; failed="$failed $name"
	fi
	echo "== $name: $st ($(( $(date +%s) - start ))s)"
	if [ "$st" = FAIL ] || [ -n "${VERBOSE:-}" ]; then tail -n 60 "$log"; else
		grep -E '^(skip|SKIP|bench|dsigbench|timing)|passed, [0-9]+ failed|asserts' "$log" | tail -n 6
	fi
	rm -f "$log"
}
if [ "$WHAT" != integration ]; then
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		run "unit/$(basename "$t")" "$t"
	done
fi
if [ "$WHAT" != unit ]; then
	for t in tests/integration/test_*.sh; do
		[ -f "$t" ] || continue
		run "integration/$(basename "$t" .sh)" env BUILD="$B" sh "$t"
	done
fi
echo
[ -n "$failed" ] && echo "failed:$failed"
echo "suite: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
