#!/usr/bin/env bash
# tests/integration/kvm.sh BUILD - boot guests under kvmshadow in hw mode
# and check what they print, how they end, and what --stats counts.
# (shadow.sh does the same for shadow mode, the default.)
#
# Needs a working /dev/kvm: 'make check' runs it through tools/kvm-sandbox
# on hosts without one.  Runs the AddressSanitizer/UBSan build of the VMM,
# so any memory error in the VMM fails the test (ASan writes to stderr, and
# every test checks stderr exactly).
set -u
cd "$(dirname "$0")/../.."
. tests/kvmlib.sh kvm.sh "${1:-build}" kvm --mode=hw

# --- the guest kernel and its programs ---------------------------------------
boot all --timeout 300 "$GUEST"
expect_eq "guest: exit status 0 (all programs passed)" 0 "$(status_of all)"
expect_file_eq "guest: console output" "$EXPECT/guest-all.txt" "$OUT/all.out"
expect_lines "guest: nothing on stderr" 0 "$OUT/all.err"

if [ -f "$BUILD/tests/qemu/all.out" ]; then
	expect_file_eq "transparency: same output as plain QEMU" \
		"$BUILD/tests/qemu/all.out" "$OUT/all.out"
else
	test_fail "transparency: QEMU output missing (run tests/integration/qemu.sh first)"
fi

boot stress --timeout 300 --cmdline run=ptshadow,pingpong,retouch,forkchurn,ptupdate "$GUEST"
expect_eq "shadow-MMU stress programs: status" 0 "$(status_of stress)"
expect_file_eq "shadow-MMU stress programs: console output (as under plain QEMU)" \
	"$EXPECT/shadowstress.txt" "$OUT/stress.out"

boot hello --timeout 120 --cmdline run=hello "$GUEST"
expect_eq "run=hello: status" 0 "$(status_of hello)"
expect_file_eq "run=hello: console output" "$EXPECT/guest-hello.txt" "$OUT/hello.out"

boot faulter --timeout 120 --cmdline run=faulter "$GUEST"
expect_eq "run=faulter: status 0 (the kill was expected)" 0 "$(status_of faulter)"
expect_grep "run=faulter: killed with a message" "^faulter: killed: page fault" "$OUT/faulter.out"

boot unknown --timeout 120 --cmdline run=nosuch "$GUEST"
expect_eq "run=nosuch: guest reports failure (status 1)" 1 "$(status_of unknown)"

for mem in 16M 256M; do
	boot "mem$mem" --timeout 300 -m "$mem" "$GUEST"
	expect_eq "-m $mem: status" 0 "$(status_of "mem$mem")"
	expect_grep "-m $mem: banner shows the memory" "${mem%M} MiB" "$OUT/mem$mem.out"
done

# --- --stats: the counters are there and make sense --------------------------
boot stats --timeout 300 --stats "$GUEST"
expect_eq "--stats: status" 0 "$(status_of stats)"
expect_file_eq "--stats: console unchanged" "$EXPECT/guest-all.txt" "$OUT/stats.out"
# counter NAME: a --stats counter's value, or "missing" (which fails any check)
counter() {
	local v
	v=$(awk -v k="$1" '$1 == k { print $2 }' "$OUT/stats.err")
	echo "${v:-missing}"
}
expect_grep "--stats: header" "^kvmshadow: stats for vm0 \(mode hw, " "$OUT/stats.err"
expect_cmp "--stats: console bytes = bytes printed" "$(counter console.bytes)" eq \
	"$(wc -c <"$OUT/stats.out")"
expect_cmp "--stats: COM1 accesses >= console bytes" "$(counter io.com1.0x3f8)" ge \
	"$(counter console.bytes)"
expect_cmp "--stats: timer interrupts were injected" "$(counter irq.injected)" gt 0
expect_cmp "--stats: the guest halted when idle" "$(counter exit.hlt)" gt 0
sum=0
for k in exit.io exit.mmio exit.hlt exit.irq-window exit.intr exit.shutdown exit.other; do
	v=$(counter "$k")
	[[ $v =~ ^[0-9]+$ ]] && sum=$((sum + v)) || sum="missing $k"
done
expect_cmp "--stats: exits add up" "$(counter exit.total)" eq "$sum"
expect_cmp "--stats: no unknown port accesses" "$(counter io.unknown)" eq 0

# The bench program and the phase marks (port 0xe0, src/devices/marker.c):
# each benchmark's exits are counted apart.  Its in benchmark does one inb
# per operation, and in hw mode an inb is exactly one exit; its syscall
# and callret loops cause none.
boot bench --timeout 300 --stats --cmdline run=bench "$GUEST"
expect_eq "bench: status" 0 "$(status_of bench)"
expect_grep "bench: finished" "^bench: done$" "$OUT/bench.out"
expect_eq "bench: a result for each of the 19 phases" 19 \
	"$(grep -c '^bench: phase=[0-9]* name=[a-z]* .*n=[0-9]* cycles=[0-9]* per_op=[0-9]*$' "$OUT/bench.out")"
expect_eq "bench: --stats has the exits of each phase" 19 \
	"$(grep -c '^  phase\.[0-9]*\.exits ' "$OUT/bench.err")"
phase() { awk -v k="phase.$1.exits" '$1 == k { print $2 }' "$OUT/bench.err"; }
expect_cmp "bench: in (phase 2): at least one exit per inb" "$(phase 2)" ge 2000
expect_cmp "bench: in (phase 2): and few more" "$(phase 2)" lt 2100
expect_cmp "bench: syscall (phase 1): hardly an exit" "$(phase 1)" lt 50

# The release build behaves the same as the sanitized one.
"$BUILD/kvmshadow" boot --mode=hw --timeout 300 "$GUEST" >"$OUT/release.out" 2>"$OUT/release.err"
expect_eq "release build: status" 0 $?
expect_file_eq "release build: console output" "$EXPECT/guest-all.txt" "$OUT/release.out"

# --- how a guest can end, and the status for each ----------------------------
boot triple --timeout 60 "$TINY/tiny-triple.img"
expect_eq "triple fault: status 71" 71 "$(status_of triple)"
# KVM on Intel keeps the registers, KVM on AMD (our sandbox) resets the
# vCPU before telling us: either the eip of the int3 or an honest "unknown".
expect_grep "triple fault: reported" \
	"^kvmshadow: vm0: guest triple fault (at eip=0x001000[0-9a-f]{2}|\(eip unknown: KVM reset the vCPU\))$" \
	"$OUT/triple.err"

boot halt --timeout 60 "$TINY/tiny-halt.img"
expect_eq "halt with IF=0: status 72" 72 "$(status_of halt)"
expect_grep "halt with IF=0: reported" \
	"^kvmshadow: vm0: guest halted with interrupts disabled at eip=0x001000" "$OUT/halt.err"

boot spin --timeout 2 "$TINY/tiny-spin.img"
expect_eq "endless loop: status 73 after --timeout" 73 "$(status_of spin)"
expect_grep "endless loop: reported" "^kvmshadow: vm0: timeout after 2 s at eip=0x001000" \
	"$OUT/spin.err"

boot bigexit --timeout 60 "$TINY/tiny-bigexit.img"
expect_eq "debug-exit 100: status 74" 74 "$(status_of bigexit)"
expect_grep "debug-exit 100: reported" "debug-exit value 100 is above 63" "$OUT/bigexit.err"

boot probe --timeout 60 "$TINY/tiny-probe.img"
expect_eq "probe: status 5 (its debug-exit value)" 5 "$(status_of probe)"
expect_eq "probe: unknown ports and memory read as all ones" \
	"$(printf 'tiny: hello\nff ff ff \n')" "$(cat "$OUT/probe.out")"
expect_eq "probe: each oddity reported once" \
	"kvmshadow: vm0: guest read unknown port 0x0061 (size 1); reads as 0xff (reported once per port)
kvmshadow: vm0: guest read unbacked physical address 0xe0000000 (4 bytes); reads as all ones (reported once)" \
	"$(cat "$OUT/probe.err")"

# --trace: one line per intervention, and nothing else changes.  The tiny
# probe kernel has no timer, so its trace is exactly reproducible.
boot probetrace --timeout 60 --trace=all "$TINY/tiny-probe.img"
expect_eq "--trace: status unchanged" 5 "$(status_of probetrace)"
expect_file_eq "--trace: console unchanged" "$OUT/probe.out" "$OUT/probetrace.out"
expect_file_eq "--trace=all: every port access, in order, with the one-time reports" \
	"$EXPECT/tiny-probe-trace.txt" "$OUT/probetrace.err"
boot hellotrace --timeout 120 --trace=irq,hlt,exit --cmdline run=hello "$GUEST"
expect_file_eq "--trace: guest console unchanged" "$EXPECT/guest-hello.txt" "$OUT/hellotrace.out"
expect_grep "--trace=irq: timer interrupts injected" \
	"^\[vm0\] inject vector 0x20 with KVM_INTERRUPT$" "$OUT/hellotrace.err"
expect_eq "--trace=irq,hlt,exit: no port lines" 0 "$(grep -c ' port 0x' "$OUT/hellotrace.err")"

test_summary
