#!/usr/bin/env bash
# tests/fuzz/valgrind.sh BUILD [unit|kvm|all] - the VMM without sanitizers,
# under valgrind's memcheck.
#
# ASan and UBSan (make check, the fuzzers) see only what was compiled with
# them.  Valgrind sees the whole process as built for users: reads of
# uninitialised memory (which ASan does not look for), and libcapstone's
# and libc's side of every call.  Two parts:
#
#   unit  the Criterion unit tests, BUILD/tests/unit-tests-plain, on this
#         host.  Criterion runs each test in a child it re-executes, so
#         valgrind follows children (--trace-children=yes), one log each.
#   kvm   BUILD/kvmshadow booting the guest (run=hello) in shadow and in hw
#         mode, and the hostile kernels in shadow mode.  Needs /dev/kvm:
#         'all' (the default) runs this part through tools/kvm-sandbox when
#         this host has none.  KVMSHADOW_VALGRIND_FULL=1 adds the full
#         default run of every guest program (long under valgrind in the
#         sandbox).
#
# Every run is valgrind --error-exitcode=99 --leak-check=full
# --errors-for-leak-kinds=definite, with tests/fuzz/valgrind.supp (which
# says why each of its entries is a false positive).  A run fails if
# valgrind reports an error in any of its processes; the guest's own exit
# status does not matter here.  Logs: BUILD/tests/valgrind/.
set -u
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
PART=${2:-all}
OUT=$BUILD/tests/valgrind
# (--vgdb=no: no FIFOs for a debugger, which the sandbox's shared /tmp
# cannot hold.)
VALGRIND=(valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite
	--suppressions=tests/fuzz/valgrind.supp --num-callers=30 --vgdb=no)
failed=0

# check NAME STATUS: did valgrind find anything in the logs of run NAME,
# or not finish one of them?
check() {
	local name=$1 status=$2 bad
	bad=$(grep -L 'ERROR SUMMARY: 0 errors' "$OUT/$name".vg.* 2>/dev/null)
	if [ "$status" -eq 99 ] || [ -n "$bad" ] || ! ls "$OUT/$name".vg.* >/dev/null 2>&1; then
		echo "FAIL  valgrind $name: status $status; see ${bad:-$OUT/$name.vg.*}"
		failed=$((failed + 1))
	else
		echo "ok    valgrind $name: $(ls "$OUT/$name".vg.* | wc -l) process(es), no error" \
			"(exit status $status)"
	fi
}

# vmm NAME ARGS...: kvmshadow boot ARGS under valgrind, for at most
# TIMEOUT seconds
TIMEOUT=300
vmm() {
	local name=$1
	shift
	echo "  valgrind: kvmshadow boot $*" >&2
	"${VALGRIND[@]}" --log-file="$OUT/$name.vg.%p" "$BUILD/kvmshadow" boot --timeout "$TIMEOUT" "$@" \
		>"$OUT/$name.out" 2>"$OUT/$name.err" </dev/null
	check "$name" $?
}

unit_part() {
	echo "  valgrind: the unit tests (one process per test)" >&2
	"${VALGRIND[@]}" --trace-children=yes --log-file="$OUT/unit.vg.%p" \
		"$BUILD/tests/unit-tests-plain" --jobs 1 >"$OUT/unit.out" 2>&1 </dev/null
	check unit $?
}

kvm_part() {
	local guest=$BUILD/guest/guest.img

	vmm hello-shadow --cmdline run=hello "$guest"
	vmm hello-hw --mode=hw --cmdline run=hello "$guest"
	for v in iretlim gatelim prefint usint usgdt gbit pushcs stihlt repstos stospd selfbts \
		selfmap dsbase patchdata; do
		vmm "hostile-$v" "$BUILD/tests/hostile-$v.img"
	done
	if [ "${KVMSHADOW_VALGRIND_FULL:-0}" = 1 ]; then
		# (Under valgrind in the sandbox: 12 minutes.  Status 1 there:
		# kspy's known difference, and sysinfo's preemption check, which
		# needs a VMM that answers within two timer ticks.)
		TIMEOUT=3000 vmm all-shadow "$guest"
	fi
}

case $PART in
unit)
	rm -f "$OUT"/unit.* && mkdir -p "$OUT"
	unit_part
	;;
kvm)
	rm -f "$OUT"/hello-* "$OUT"/hostile-* "$OUT"/all-* && mkdir -p "$OUT"
	kvm_part
	;;
all)
	rm -rf "$OUT" && mkdir -p "$OUT"
	unit_part
	if tools/kvm-sandbox --check-host >/dev/null 2>&1; then
		kvm_part
	else
		tools/kvm-sandbox --timeout 7200 -- "$0" "$BUILD" kvm || failed=$((failed + 1))
	fi
	;;
*)
	echo "usage: tests/fuzz/valgrind.sh BUILD [unit|kvm|all]" >&2
	exit 2
	;;
esac
[ $failed -eq 0 ]
