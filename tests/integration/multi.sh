#!/usr/bin/env bash
# tests/integration/multi.sh BUILD - several guests on one machine
# (issue 5, Documentation/multiplexing.md): machine switches, preemption
# by the host timer, idle guests giving up the CPU, isolation of memory,
# overcommit with swapping, and the exit status of several guests.
#
# The memtest kernel (tests/guests/memtest) does the guest's side: it
# writes a secret over all its memory, scans all of its memory for
# another guest's secret while checking its own data, idles, spins or
# computes.  Runs the sanitized VMM; needs /dev/kvm (make check uses
# tools/kvm-sandbox).
# The whole script is one block, read before it runs, so that editing it
# during a run cannot break the run (bash reads scripts as it goes).
{
set -u
cd "$(dirname "$0")/../.."
. tests/kvmlib.sh multi.sh "${1:-build}" multi
MEMTEST=$BUILD/tests/memtest.img

# counter RUN GUEST NAME: a --stats counter in GUEST's block of run RUN
counter() {
	local v
	v=$(awk -v g="$2" -v k="$3" '
		/^kvmshadow: stats for / { cur = $4 }
		cur == g && $1 == k { print $2 }' "$OUT/$1.err")
	echo "${v:-missing}"
}

# console RUN GUEST: GUEST's lines of run RUN's stdout, prefix removed
console() {
	sed -n "s/^$2| //p" "$OUT/$1.out"
}

# life_us RUN GUEST: how long GUEST ran (its stats header), in microseconds
life_us() {
	awk -v g="$2" '$1 == "kvmshadow:" && $4 == g { s = $7; sub(/,/, "", s); print int(s * 1e6) }' \
		"$OUT/$1.err"
}

# status_line RUN GUEST: the status kvmshadow reports for GUEST
status_line() {
	sed -n "s/^kvmshadow: $2 ([^)]*): exit status //p" "$OUT/$1.err"
}

# --- the guest's test programs, two and four at once -----------------------------
# Each guest's console, prefix removed, must be what the same programs
# print alone (plain QEMU's output, as shadow.sh checks it).  A short
# slice (1 ms) makes many switches land inside system calls and
# page-table updates.
PROGS=ptshadow,pingpong,retouch,forkchurn,ptupdate
boot two --timeout 900 --stats --slice 1 --cmdline run=$PROGS "$GUEST" "$GUEST"
expect_eq "two guests: status" 0 "$(status_of two)"
for g in vm0 vm1; do
	console two $g >"$OUT/two.$g"
	expect_file_eq "two guests: $g's console is its console alone" \
		"$EXPECT/shadowstress.txt" "$OUT/two.$g"
	expect_eq "two guests: $g reported status 0" 0 "$(status_line two $g)"
	expect_cmp "two guests: $g was switched in many times" \
		"$(counter two $g sched.switches-in)" gt 20
done

boot four --timeout 900 --stats --slice 2 --cmdline run=hello,syscalls "$GUEST" "$GUEST" \
	"$GUEST" "$GUEST"
expect_eq "four guests: status" 0 "$(status_of four)"
boot alone --timeout 900 --cmdline run=hello,syscalls "$GUEST"
expect_eq "four guests: the program alone: status" 0 "$(status_of alone)"
for g in vm0 vm1 vm2 vm3; do
	console four $g >"$OUT/four.$g"
	expect_file_eq "four guests: $g's console is the same as alone" "$OUT/alone.out" \
		"$OUT/four.$g"
done

# --- a machine switch in the middle of anything --------------------------------
# The stress programs (system calls, fork, page-table writes) against a
# guest that computes with interrupts off, on 0.2 ms slices: thousands
# of switches, many inside a trap's handling or a monitor stub, all with
# --check-shadow.
boot stress --timeout 900 --stats --check-shadow --slice 0.2 \
	--cmdline run=$PROGS --cmdline "mode=clibusy loops=100000000" "$GUEST" "$MEMTEST"
expect_eq "stress, 0.2 ms slices: status" 0 "$(status_of stress)"
console stress vm0 >"$OUT/stress.vm0"
expect_file_eq "stress, 0.2 ms slices: the programs' console as alone" \
	"$EXPECT/shadowstress.txt" "$OUT/stress.vm0"
expect_eq "stress, 0.2 ms slices: the computing guest's result" \
	"memtest: clibusy done, result 0x39532b07" "$(console stress vm1)"
expect_cmp "stress, 0.2 ms slices: machine switches" \
	"$(awk '$1 == "sched.switches" { print $2 }' "$OUT/stress.err")" gt 1000

# --- preemption: interrupts off does not keep the CPU -----------------------------
# clibusy never enables interrupts, busy never halts: the host timer
# alone takes the CPU back, and with equal weights they share it.
boot preempt --timeout 300 --stats --cmdline "mode=clibusy loops=100000000" \
	--cmdline "mode=busy loops=100000000" "$MEMTEST" "$MEMTEST"
expect_eq "preemption: status" 0 "$(status_of preempt)"
expect_eq "preemption: clibusy's result" "memtest: clibusy done, result 0x39532b07" \
	"$(console preempt vm0)"
for g in vm0 vm1; do
	expect_cmp "preemption: $g got at least 35% of the CPU (permille)" \
		"$(counter preempt $g sched.cpu-permille)" ge 350
done
# Weights: 3 to 1 gives the first three slices to each one of the other.
boot weight --timeout 300 --stats --weight 3 --weight 1 --cmdline "mode=busy loops=200000000" \
	--cmdline "mode=busy loops=200000000" "$MEMTEST" "$MEMTEST"
expect_eq "weights: status" 0 "$(status_of weight)"
w_cpu=$(counter weight vm0 sched.cpu-us)
w_life=$(life_us weight vm0)
expect_cmp "weights: vm0 (weight 3 of 4) had >= 65% of the CPU while it ran (cpu ${w_cpu} us of ${w_life} us)" \
	"$((w_cpu * 100))" ge "$((w_life * 65))"

# --- idle detection: hlt gives the CPU away ------------------------------------------
# An idle guest (hlt with interrupts on, timer at 20 Hz) beside a busy
# one.  What idle detection buys is counted exactly: after its boot (about
# 95 traps, mostly its console) the idle guest costs 3 traps a tick (the
# hlt, its EOI, its iret) and 2 machine switches, whatever the busy one
# does.  In time, the busy guest's share is its CPU time over its own
# lifetime (it ends first, after about 2 s, so the idle guest's boot is a
# small part of it).  The issue's target is 90%: three runs gave 94.3%,
# 95.7% and 94.6%, and 94.8% and 95.2% with another sandbox busy beside
# them (Documentation/multiplexing.md).  Without idle detection it would be
# about 50%.  A timing check, so it runs the optimized build.
SANITIZED=$VMM
VMM=$BUILD/kvmshadow
boot idle --timeout 300 --stats --cmdline "mode=idle ticks=100 hz=20" \
	--cmdline "mode=busy loops=1000000000" "$MEMTEST" "$MEMTEST"
expect_eq "idle vs busy: status" 0 "$(status_of idle)"
busy_us=$(counter idle vm1 sched.cpu-us)
busy_life_us=$(life_us idle vm1)
expect_cmp "idle vs busy: the busy guest had >= 90% of the CPU while it ran (cpu ${busy_us} us of ${busy_life_us} us)" \
	"$((busy_us * 100))" ge "$((busy_life_us * 90))"
expect_cmp "idle vs busy: the idle guest's traps, 100 ticks (3 a tick, and its boot)" \
	"$(counter idle vm0 trap.total)" le 420
expect_cmp "idle vs busy: the idle guest gave up the CPU at each hlt" \
	"$(counter idle vm0 halt.sleeps)" ge 95
VMM=$SANITIZED

# A guest that enables interrupts and then waits by spinning never traps
# again: the host must still bring it its timer interrupts (it got none
# before: the emulated sti's shadow never ended; trap.c).
boot spin --timeout 60 --cmdline "mode=spin ticks=50" "$MEMTEST"
expect_eq "sti, then spin: status" 0 "$(status_of spin)"
expect_eq "sti, then spin: the ticks came" "memtest: spin done after 50 ticks" \
	"$(cat "$OUT/spin.out")"

# --- isolation: nobody reads another guest's data --------------------------------------
# vm0 writes a secret over all its memory and exits; vm1 waits half a
# second, then scans all of its memory (every page comes to it after
# vm0's were scrubbed and returned), twice.  --canary marks every free
# frame and checks nothing wrote to one.
boot iso --timeout 300 --stats --canary --cmdline "mode=secret" \
	--cmdline "mode=scan wait=50" "$MEMTEST" "$MEMTEST"
expect_eq "isolation (secret exits first): status" 0 "$(status_of iso)"
expect_grep "isolation (secret exits first): the secret was written" \
	"^vm0| memtest: secret written over 65508 KiB" "$OUT/iso.out"
expect_grep "isolation (secret exits first): the scan passed" "^vm1| memtest: scan done" \
	"$OUT/iso.out"
# The same with overcommit: the secret writer keeps running (and its
# frames keep being swapped out and in) while the scanner runs.
boot isoswap --timeout 60 --stats --machine-mem 48M --cmdline "mode=secret keep=1" \
	--cmdline "mode=scan passes=2" "$MEMTEST" "$MEMTEST"
expect_eq "isolation with overcommit: the scanner's status" 0 "$(status_line isoswap vm1)"
expect_eq "isolation with overcommit: the writer ran to the timeout" 73 \
	"$(status_line isoswap vm0)"
expect_grep "isolation with overcommit: the scan passed" "^vm1| memtest: scan done" \
	"$OUT/isoswap.out"
for g in vm0 vm1; do
	expect_cmp "isolation with overcommit: $g's frames were swapped out" \
		"$(counter isoswap $g swap.out)" gt 0
	expect_cmp "isolation with overcommit: $g's frames were swapped in" \
		"$(counter isoswap $g swap.in)" gt 0
done
# The scanner can fail: a secret unit planted in its own memory is seen.
boot plant --timeout 60 --cmdline "mode=busy loops=1000" --cmdline "mode=scan plant=1" \
	"$MEMTEST" "$MEMTEST"
expect_eq "isolation: a planted secret is seen (status 3, the first non-zero)" 3 \
	"$(status_of plant)"
expect_eq "exit status: each guest's is reported" "0 3" \
	"$(status_line plant vm0) $(status_line plant vm1)"

# --- overcommit: 2 x 64 MiB on 48 MiB ------------------------------------------------
boot over --timeout 600 --stats --machine-mem 48M --cmdline "mode=scan passes=2" \
	"$MEMTEST" "$MEMTEST"
expect_eq "overcommit: status" 0 "$(status_of over)"
for g in vm0 vm1; do
	expect_eq "overcommit: $g checked all its data, twice" \
		"memtest: pass 1 of 2: 65508 KiB ok
memtest: pass 2 of 2: 65508 KiB ok
memtest: scan done" "$(console over $g)"
	expect_cmp "overcommit: $g swap-outs" "$(counter over $g swap.out)" gt 1000
	expect_cmp "overcommit: $g swap-ins" "$(counter over $g swap.in)" gt 1000
done
# The guest kernel's programs run correctly while their frames are swapped.
boot overprog --timeout 900 --stats --machine-mem 20M --cmdline run=$PROGS \
	--cmdline "mode=scan passes=3" "$GUEST" "$MEMTEST"
expect_eq "overcommit, programs: status" 0 "$(status_of overprog)"
console overprog vm0 >"$OUT/overprog.vm0"
expect_file_eq "overcommit, programs: console as alone" "$EXPECT/shadowstress.txt" \
	"$OUT/overprog.vm0"
expect_cmp "overcommit, programs: the programs' frames were swapped in" \
	"$(counter overprog vm0 swap.in)" gt 0

# --- the swap file ----------------------------------------------------------------
echo "precious" >"$OUT/data"
boot swapfull --swap "$OUT/data" "$MEMTEST"
expect_eq "--swap on a file with data: refused (64)" 64 "$(status_of swapfull)"
expect_grep "--swap on a file with data: says why" "exists and is not empty" "$OUT/swapfull.err"
expect_eq "--swap on a file with data: the data is intact" "precious" "$(cat "$OUT/data")"
boot swapfile --timeout 600 --stats --swap "$OUT/swapfile" --machine-mem 24M \
	--cmdline "mode=scan passes=2" -m 32M "$MEMTEST"
expect_eq "--swap FILE: status" 0 "$(status_of swapfile)"
expect_cmp "--swap FILE: swapped out" "$(counter swapfile vm0 swap.out)" gt 0
expect_eq "--swap FILE: emptied at exit" 0 "$(stat -c %s "$OUT/swapfile")"

test_summary
exit
}
