#!/usr/bin/env bash
# tests/integration/qemu.sh BUILD - boot the guest image under plain QEMU
# (TCG, pure emulation, no kvmshadow) and check it behaves as expected.
# Its output is kept in BUILD/tests/qemu/ for the transparency check in
# kvm.sh: the same image must print the same bytes under kvmshadow.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${1:-build}
GUEST=$BUILD/guest/guest.img
OUT=$BUILD/tests/qemu
EXPECT=tests/expected
rm -rf "$OUT"
mkdir -p "$OUT"

# qemu NAME ARGS...: QEMU's isa-debug-exit turns the guest's value v into
# exit status (v << 1) | 1, so a passing guest (v = 0) exits with 1.
qemu() {
	local name=$1
	shift
	echo "  running: qemu-system-i386 -kernel $GUEST $*" >&2
	timeout 300 qemu-system-i386 -kernel "$GUEST" -m 64 -display none -monitor none \
		-serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 -no-reboot "$@" \
		</dev/null >"$OUT/$name.out" 2>"$OUT/$name.err"
	echo $? >"$OUT/$name.status"
}

qemu all
expect_eq "qemu: exit status 1 = (0 << 1) | 1, all programs passed" 1 "$(cat "$OUT/all.status")"
expect_file_eq "qemu: console output" "$EXPECT/guest-all.txt" "$OUT/all.out"

qemu hello -append run=hello
expect_eq "qemu run=hello: status" 1 "$(cat "$OUT/hello.status")"
expect_file_eq "qemu run=hello: console output" "$EXPECT/guest-hello.txt" "$OUT/hello.out"

# The shadow-MMU stress programs: tests/expected/shadowstress.txt is this.
qemu stress -append run=ptshadow,pingpong,retouch,forkchurn,ptupdate
expect_eq "qemu stress programs: status" 1 "$(cat "$OUT/stress.status")"
expect_file_eq "qemu stress programs: console output" "$EXPECT/shadowstress.txt" \
	"$OUT/stress.out"

test_summary
