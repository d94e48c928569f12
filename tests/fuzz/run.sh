#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD SECONDS - run each libFuzzer harness for SECONDS
# seconds and report executions per second and the coverage reached.
#
# The harnesses (tests/fuzz/fuzz_*.c) feed guest-controlled bytes to the
# host code that parses them: the image loader, the instruction emulator,
# the page-table walker, the descriptor tables and the trap path that
# uses them.  Any crash, sanitizer report or broken invariant fails the
# run; libFuzzer leaves the input that caused it in the working directory
# (BUILD/fuzz/work/HARNESS), named crash-*.  Each run starts from the
# corpus a previous run left there, plus the seeds kept in the repository
# (tests/fuzz/corpus/HARNESS) and, for the loader, the images the build
# made.
#
# Refreshing the seeds: after a long run, minimize the working corpus into
# a fresh directory and keep a handful of small inputs from it, a few KB
# in all (the hand-made ones come from tests/fuzz/mkseeds.py):
#
#	mkdir /tmp/min && BUILD/fuzz/fuzz_HARNESS -merge=1 /tmp/min \
#		BUILD/fuzz/work/HARNESS/corpus
#	ls -S /tmp/min | tail	# small ones; look at what they reach
#	cp /tmp/min/SOME tests/fuzz/corpus/HARNESS/NAME
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
SECONDS_EACH=${2:-10}
failed=0
for h in loader emulate ptwalk descriptors; do
	bin=$BUILD/fuzz/fuzz_$h
	work=$BUILD/fuzz/work/$h
	mkdir -p "$work/corpus"
	cp -f tests/fuzz/corpus/"$h"/* "$work/corpus/" 2>/dev/null
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
