#!/usr/bin/env bash
# Runs the libFuzzer targets (make fuzz-build first).
#   FUZZ_DIR=build/fuzz FUZZ_SECONDS=600 bash tests/fuzz/run.sh [TARGET...]
# For each target (intake config http): seeds made now into
# $FUZZ_DIR/corpus/TARGET (tests/data, ../shared/vectors, the shipped
# configs, llhttp's requests); every file of tests/fuzz/regress/TARGET run
# once first (the crashes found so far); then FUZZ_SECONDS of fuzzing with
# FUZZ_JOBS jobs.  A crash leaves its input in $FUZZ_DIR/crashes/TARGET/:
# copy it to tests/fuzz/regress/TARGET/ with the fix.
# One line per target: "fuzz: target=T runs=N seconds=S execs_per_s=R
# corpus=N crashes=N"; exit 1 when any target crashed.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUZZ_DIR=${FUZZ_DIR:-$ROOT/build/fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_JOBS=${FUZZ_JOBS:-1}
VECTORS_DIR=${VECTORS_DIR:-$ROOT/../shared/vectors}
CORPUS_DIR=${CORPUS_DIR:-$ROOT/../shared/corpus}
export CORPUS_DIR FUZZ_ROOT=$ROOT
[ $# -gt 0 ] || set -- intake config http
rc=0

seeds() { # TARGET DIR
	mkdir -p "$2"
	case $1 in
	intake)
		cp "$ROOT"/tests/data/*.xml "$2"/ 2>/dev/null
		[ -x "$ROOT/build/gendecl" ] && "$ROOT/build/gendecl" --items 3 >"$2/gendecl-3.xml"
		if [ -d "$VECTORS_DIR" ]; then
			find "$VECTORS_DIR" -name '*.xml' -size -64k | while read -r f; do
				cp "$f" "$2/v-$(echo "$f" | sha1sum | cut -c1-12).xml"
			done
		fi
		if [ -d "$CORPUS_DIR" ]; then
			find "$CORPUS_DIR" -name '*.xml' -size -64k | head -n 50 | while read -r f; do
				cp "$f" "$2/c-$(echo "$f" | sha1sum | cut -c1-12).xml"
			done
		fi ;;
	config)
		cp "$ROOT"/tests/data/conf/*.conf "$ROOT"/systemd/declared.conf "$2"/ ;;
	http)
		if [ -d "$VECTORS_DIR/llhttp-test-request" ]; then
			python3 "$ROOT/tests/faults/llhttp_cases.py" "$VECTORS_DIR/llhttp-test-request" \
				"$2" >/dev/null && rm -f "$2/MANIFEST"
		fi
		printf 'POST /v1/declarations HTTP/1.1\r\nHost: x\r\nX-Party: A\r\nContent-Length: 5\r\n\r\n<a/>\nGET /v1/acks?after=1&limit=10&wait=0 HTTP/1.1\r\nHost: x\r\n\r\n' \
			>"$2/seed-keepalive.req" ;;
	esac
}

for t in "$@"; do
	bin=$FUZZ_DIR/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz: target=$t skipped: $bin not built (make fuzz-build; needs clang)"
		continue
	fi
	corpus=$FUZZ_DIR/corpus/$t
	crashes=$FUZZ_DIR/crashes/$t
	mkdir -p "$corpus" "$crashes"
	seeds "$t" "$corpus"
	reg=$ROOT/tests/fuzz/regress/$t
	nreg=$(find "$reg" -type f ! -name README 2>/dev/null | wc -l)
	if [ "$nreg" -gt 0 ]; then
		if "$bin" -runs=1 $(find "$reg" -type f ! -name README) >"$FUZZ_DIR/regress-$t.log" 2>&1; then
			echo "fuzz: target=$t regressions=$nreg all pass"
		else
			echo "fuzz: target=$t regressions=$nreg FAILED (see $FUZZ_DIR/regress-$t.log)"
			rc=1
		fi
	fi
	before=$(find "$crashes" -type f | wc -l)
	log=$FUZZ_DIR/fuzz-$t.log
	maxlen=65536
	[ "$t" = config ] && maxlen=8192
	"$bin" -max_total_time="$FUZZ_SECONDS" -max_len=$maxlen -rss_limit_mb=2048 \
		-timeout=20 -print_final_stats=1 -jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS" \
		-artifact_prefix="$crashes/" "$corpus" >"$log" 2>&1
	st=$?
	runs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{ s += $2 } END { print s + 0 }')
	secs=$(grep -h 'Done [0-9]* runs in' "$log" | tail -n 1 | sed -E 's/.* in ([0-9]+) second.*/\1/')
	secs=${secs:-$FUZZ_SECONDS}
	after=$(find "$crashes" -type f | wc -l)
	n=$((after - before))
	[ "$st" -ne 0 ] && [ "$n" -eq 0 ] && n=1
	echo "fuzz: target=$t runs=$runs seconds=$secs execs_per_s=$((runs / (secs > 0 ? secs : 1)))" \
		"corpus=$(find "$corpus" -type f | wc -l) crashes=$n"
	if [ "$n" -gt 0 ]; then
		rc=1
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -n 5
	fi
done
exit $rc
