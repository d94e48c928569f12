# tests/kvmlib.sh - what the KVM tests (kvm.sh, shadow.sh) share.
#
#   . tests/kvmlib.sh NAME BUILD OUTDIR [kvmshadow boot options...]
#
# sets BUILD, VMM (the sanitized kvmshadow), GUEST, TINY, OUT (emptied),
# EXPECT, refuses to go on without a usable /dev/kvm, and defines boot and
# status_of.  The boot options (e.g. --mode=hw) go before every test's own.
. tests/lib.sh
KVMLIB_NAME=$1
BUILD=${2:-build}
OUT=$BUILD/tests/$3
shift 3
KVMLIB_BOOT_OPTS=("$@")
VMM=$BUILD/asan/kvmshadow
GUEST=$BUILD/guest/guest.img
TINY=$BUILD/tests
EXPECT=tests/expected
rm -rf "$OUT"
mkdir -p "$OUT"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

if ! [ -r /dev/kvm ] || ! [ -w /dev/kvm ]; then
	echo "$KVMLIB_NAME: /dev/kvm is not usable here; run me through tools/kvm-sandbox" >&2
	exit 2
fi

# boot NAME ARGS...: run kvmshadow boot ARGS, keeping stdout, stderr and
# the status in $OUT/NAME.out, .err and .status.  A CPU without UMIP gets
# one warning line in shadow mode (Documentation/privilege.md): it stays
# in NAME.err.raw, and the checks are about everything else on stderr.
boot() {
	local name=$1
	shift
	echo "  running: kvmshadow boot ${KVMLIB_BOOT_OPTS[*]} $*" >&2
	"$VMM" boot "${KVMLIB_BOOT_OPTS[@]}" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err.raw"
	echo $? >"$OUT/$name.status"
	grep -v "^kvmshadow: warning: this CPU has no UMIP" "$OUT/$name.err.raw" >"$OUT/$name.err"
}

status_of() {
	cat "$OUT/$1.status"
}
