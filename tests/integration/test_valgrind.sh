#!/bin/sh
# The daemon under valgrind through a whole lifecycle run (intake, rules,
# lanes, amendments, cancellations, graceful stop): no memory error, nothing
# definitely or indirectly lost.  Skipped for a sanitizer build.
. "$(dirname "$0")/lib.sh"
if nm "$BUILD/libdeclared.a" 2>/dev/null | grep -q __asan_init; then
	echo "skip: a sanitizer build cannot run under valgrind"
	echo "0 passed, 0 failed"
	exit 0
fi
command -v valgrind >/dev/null || { echo "valgrind missing"; echo "0 passed, 1 failed"; exit 1; }
VG=$(mktemp -d /tmp/declared-vg.XXXXXX)
DAEMON_WRAP="valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --log-file=$VG/vg.%p.log" \
READY_TRIES=1200 DB_TIMEOUT=30 sh "$ROOT/tests/integration/test_lifecycle.sh" >"$VG/run.log" 2>&1
rc=$?
eq "the lifecycle suite passes with the daemon under valgrind" 0 "$rc"
tail -n 1 "$VG/run.log"
n=$(ls "$VG"/vg.*.log 2>/dev/null | wc -l)
eq "one valgrind report (one daemon run)" 1 "$n"
for f in "$VG"/vg.*.log; do
	eq "valgrind: no memory errors" "0" \
		"$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f")"
	eq "valgrind: nothing definitely lost" "0" \
		"$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f")"
	eq "valgrind: nothing indirectly lost" "0" \
		"$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$f")"
	# valgrind's preloaded malloc takes the place of the one the daemon
	# links (mimalloc, Makefile ALLOC) as of glibc's: it saw the allocations
	allocs=$(sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' "$f" | tr -d ,)
	check "valgrind tracked the daemon's allocations (${allocs:-0} > 100000)" \
		test "${allocs:-0}" -gt 100000
	check "valgrind: the daemon stopped gracefully (a leak summary exists)" \
		grep -q "LEAK SUMMARY\|All heap blocks were freed" "$f"
done
[ "$T_FAIL" -eq 0 ] || { cat "$VG"/vg.*.log | head -n 80; }
rm -rf "$VG"
finish
