#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD SECONDS - run each libFuzzer harness for SECONDS
# seconds and report executions per second and the coverage reached.
#
# The harnesses (tests/fuzz/fuzz_*.c) feed guest-controlled bytes to the
# host code that parses them: the image loader, the instruction emulator,
# the page-table walker.  Any crash, sanitizer report or broken invariant
# fails the run; libFuzzer leaves the input that caused it in the working
# directory (BUILD/fuzz/work/HARNESS), named crash-*.  Each run starts
# from the corpus a previous run left there, seeded for the loader with
# the images the build made.
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
SECONDS_EACH=${2:-10}
failed=0
for h in loader emulate ptwalk; do
	bin=$BUILD/fuzz/fuzz_$h
	work=$BUILD/fuzz/work/$h
	mkdir -p "$work/corpus"
	if [ "$h" = loader ]; then
		cp -f "$BUILD"/guest/guest.img "$BUILD"/tests/*.img "$work/corpus/" 2>/dev/null
	fi
	echo "  fuzzing: $h for $SECONDS_EACH s" >&2
	(cd "$work" && "$OLDPWD/$bin" -max_total_time="$SECONDS_EACH" -max_len=8192 \
		-print_final_stats=1 corpus) >"$work/log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
	cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
	if [ $status -ne 0 ]; then
		echo "FAIL  fuzz $h: status $status; see $work/log and $work/crash-*"
		failed=$((failed + 1))
	else
		echo "ok    fuzz $h: ${runs:-?} executions in $SECONDS_EACH s" \
			"($(( ${runs:-0} / SECONDS_EACH )) per second), ${cov:-?} coverage points"
	fi
done
[ $failed -eq 0 ]
