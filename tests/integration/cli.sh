#!/usr/bin/env bash
# tests/integration/cli.sh BUILD - the command line and the image checks,
# end to end.  None of these reach KVM (a refused image or command line
# stops before /dev/kvm is opened), so they run on any host.
#
# Every refusal must be: one line on stderr, starting "kvmshadow: ",
# naming the problem, nothing on stdout, and the documented status.
set -u
cd "$(dirname "$0")/../.."
. tests/lib.sh
BUILD=${1:-build}
VMM=$BUILD/asan/kvmshadow
OUT=$BUILD/tests/cli
rm -rf "$OUT"
mkdir -p "$OUT"

# refuse NAME STATUS PATTERN ARGS...: kvmshadow ARGS fails as described
refuse() {
	local name=$1 status=$2 pattern=$3 got
	shift 3
	"$VMM" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"
	got=$?
	expect_eq "$name: status" "$status" "$got"
	expect_lines "$name: one line on stderr" 1 "$OUT/$name.err"
	expect_grep "$name: message" "^kvmshadow: .*$pattern" "$OUT/$name.err"
	expect_lines "$name: nothing on stdout" 0 "$OUT/$name.out"
}

printf 'not a kernel\n' >"$OUT/text.img"
head -c 60 "$BUILD/tests/tiny-probe.img" >"$OUT/truncated.img"

refuse usage-none 64 "missing command"
refuse usage-command 64 "unknown command 'start'" start x.img
refuse usage-noimage 64 "missing guest image" boot
refuse usage-option 64 "unknown option '--fast'" boot --fast x.img
refuse usage-mem 64 "--mem 'lots' is not a size" boot --mem lots x.img
refuse usage-mode 64 "unknown --mode 'turbo'" boot --mode turbo x.img
refuse usage-trace 64 "unknown --trace category 'syscal'" boot --trace io,syscal x.img
refuse usage-timeout-big 64 "--timeout 2e10 is too large" boot --timeout 2e10 x.img
refuse usage-mem-space 64 "is not a size" boot --mem " -18446744073642442752" x.img
refuse usage-cmdline 64 "Multiboot command line is .* bytes; at most 3071 fit" \
	boot --cmdline "$(printf 'a%.0s' $(seq 4000))" "$BUILD/tests/tiny-probe.img"
refuse usage-timeout 64 "--timeout 'soon'" boot --timeout soon x.img
refuse usage-hw-console-dir 64 "--console-dir needs --mode=shadow" \
	boot --mode=hw --console-dir "$OUT" x.img
refuse image-missing 65 "cannot open guest image '$OUT/none.img': No such file" boot "$OUT/none.img"
refuse image-dir 65 "not a regular file" boot "$OUT"
refuse image-text 65 "not an ELF file" boot "$OUT/text.img"
refuse image-elf64 65 "ELF class is 64-bit" boot "$VMM"
refuse image-truncated 65 "program headers .* run past the end" boot "$OUT/truncated.img"
refuse image-nomultiboot 65 "no Multiboot header" boot "$BUILD/tests/tiny-nomultiboot.img"
refuse image-toobig 65 "image needs .* KiB" boot --mem 4M "$BUILD/tests/tiny-bigbss.img"

"$VMM" --help >"$OUT/help.out" 2>&1
expect_eq "help: status" 0 $?
expect_grep "help: usage line" "^Usage: kvmshadow boot \[options\] guest.img" "$OUT/help.out"
"$VMM" --version >"$OUT/version.out" 2>&1
expect_grep "version" "^kvmshadow [0-9]+\.[0-9]+\.[0-9]+$" "$OUT/version.out"

# tools/bench: its help, and one-line errors for bad arguments.
tools/bench --help >"$OUT/bench-help.out" 2>&1
expect_eq "tools/bench --help: status" 0 $?
expect_grep "tools/bench --help: usage" "^Usage: tools/bench " "$OUT/bench-help.out"
tools/bench --reps 0 >"$OUT/bench-reps.out" 2>&1
expect_eq "tools/bench --reps 0: status 2" 2 $?
expect_eq "tools/bench --reps 0: one line" \
	"bench: --reps must be a number from 1 to 20, not '0'" "$(cat "$OUT/bench-reps.out")"
tools/bench --configs hw-npt,warp >"$OUT/bench-configs.out" 2>&1
expect_eq "tools/bench --configs warp: status 2" 2 $?
expect_grep "tools/bench --configs warp: names it" "^bench: unknown configuration 'warp'" \
	"$OUT/bench-configs.out"
tools/bench --replot /nonexistent >"$OUT/bench-replot.out" 2>&1
expect_eq "tools/bench --replot of nothing: status 2" 2 $?

test_summary
