# A short libFuzzer run of every target (the long one is `make fuzz`).
# Sourced by run.sh; FUZZ_DIR holds the targets (make fuzz-build).
phase_fuzz() {
	local out n
	if [ ! -x "$FUZZ_DIR/fuzz_intake" ]; then
		echo "skip: no fuzz targets in $FUZZ_DIR (make fuzz-build; needs clang)"
		return 0
	fi
	out=$(FUZZ_DIR=$FUZZ_DIR FUZZ_SECONDS=$FUZZ_SECONDS FUZZ_JOBS=1 bash "$ROOT/tests/fuzz/run.sh")
	echo "$out"
	echo "$out" | grep '^fuzz: target=.*execs_per_s' | while read -r line; do
		note "$(echo "$line" | cut -d' ' -f2-)"
	done
	n=$(echo "$out" | sed -n 's/.* crashes=\([0-9]*\).*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	count crashes "$n"
	eq "fuzz: no crash in ${FUZZ_SECONDS} s per target" 0 "$n"
	check "fuzz: the regression inputs pass" sh -c "! echo \"\$1\" | grep -q 'regressions=.*FAILED'" _ "$out"
}
