/*
 * bench.c - what virtualization costs, timed from inside the guest.
 *
 * Adams and Agesen ("A Comparison of Software and Hardware Techniques for
 * x86 Virtualization", ASPLOS 2006) compared VMMs with nanobenchmarks:
 * each does, over and over, one thing that a VMM may have to step in
 * for, and the time it takes says what the stepping in costs.  These are
 * theirs, on this kernel, in their order, plus a TLB-miss curve, a
 * context switch and their forkwait:
 *
 *   syscall   getpid, int $0x80 there and iret back: the null system call
 *   in        a system call whose kernel side does one inb from the
 *             UART's line-status register (compare with syscall)
 *   crwr      a system call whose kernel side writes CR0 with its own
 *             value - their cr8wr, which 32-bit x86 does not have; reading
 *             CR0 first is privileged too, so it is two instructions a
 *             trap-and-emulate VMM must emulate (ktest_bench.c)
 *   callret   a call and a ret in user mode: nothing for a VMM to do, the
 *             baseline
 *   pgfault   the first touch of a demand-zero heap page: a page fault
 *             the kernel fills with a fresh zeroed page
 *   divzero   a divide by zero in user mode, handed to the kernel and
 *             resumed after the div.  This kernel kills a process on any
 *             exception, so bench names the resume point first with a
 *             test-only tool (KTEST_BENCH_DE_RESUME): the exception's way
 *             in and out, without the signal frame a Unix kernel would
 *             also build
 *   ptemod    one page mapped, touched and unmapped: sbrk(+4096), a
 *             store, sbrk(-4096) - two system calls, a demand-zero
 *             fault, a PTE cleared and its TLB entry flushed
 *   tlbmiss   N pages (8 to 4096) read in turn, over and over, each at a
 *             different page and cache line: cycles per read rise where
 *             N outgrows the TLB
 *   ctxsw     two processes yielding to each other: one switch per yield
 *   forkwait  fork, the child exits at once, the parent waits
 *
 * Each benchmark reads the time-stamp counter (rdtsc, allowed in user
 * mode) before and after a fixed number of iterations, chosen so that
 * the slowest configuration we run - a VMM that takes tens of
 * microseconds per intervention, on an emulated CPU - still finishes
 * the whole program in well under a minute.  One line per measurement:
 *
 *	bench: phase=<K> name=<name> n=<operations> cycles=<total> per_op=<cycles per operation>
 *	bench: phase=<K> name=tlbmiss pages=<N> n=<reads> cycles=<total> per_op=<cycles per read>
 *
 * then "bench: done", and exit status 0.  The numbers are cycles of the
 * guest's TSC, whatever the VMM makes of it: under plain QEMU (TCG) the
 * counter follows the host's clock, not the emulated instructions.
 *
 * Phase marks: index of the benchmark about to run, 0 at the end.  Just
 * before a benchmark's timed loop bench writes its index (1 for syscall,
 * ..., 10 for forkwait: enum bench_index) to port PORT_MARKER, with
 * the kernel's help (KTEST_BENCH_MARK); just after the loop, 0.  So a VMM
 * that counts its interventions between marks learns how many each
 * benchmark cost, without setup, teardown or printing (which happen
 * under 0).  tlbmiss marks each working-set size as a phase of its own,
 * 11 (8 pages) to 20 (4096 pages); every result line names its phase.
 * The marks themselves add about two interventions per phase: the
 * system call that writes the index returns inside the phase, and the
 * one that writes 0 enters it.
 *
 * Not in init's default list: run it with run=bench.
 */
#include "ulib.h"

#define BENCH_PAGE		  4096
#define BENCH_LINE		  64
#define BENCH_ITERATIONS	  2000	  /* for what costs a VMM an intervention or two */
#define BENCH_CALLRET_ITERATIONS  1000000 /* a call is cheap: make the loop long */
#define BENCH_PGFAULT_PAGES	  1024	  /* 4 MiB */
#define BENCH_TLB_PAGES		  4096	  /* 16 MiB, the largest working set */
#define BENCH_TLB_READS		  65536	  /* reads timed per working-set size */
#define BENCH_FORKWAIT_ITERATIONS 200

/* The phase marks: each benchmark's index, in the order they run. */
enum bench_index {
	BENCH_NONE,
	BENCH_SYSCALL,
	BENCH_IN,
	BENCH_CRWR,
	BENCH_CALLRET,
	BENCH_PGFAULT,
	BENCH_DIVZERO,
	BENCH_PTEMOD,
	BENCH_TLBMISS,
	BENCH_CTXSW,
	BENCH_FORKWAIT,
	BENCH_TLBMISS_8, /* tlbmiss: one phase per size, 8 pages up to 4096 */
};

/* Where the reads of tlbmiss go, so that the compiler must do them. */
static volatile uint32_t bench_sink;

/* --- timing and reporting ------------------------------------------------- */

static inline uint64_t bench_rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* The phase being timed, printed with its result for the VMM's counts. */
static unsigned bench_phase;

/* Start benchmark index's timed loop: mark the phase, then read the clock. */
static uint64_t bench_start(unsigned index)
{
	bench_phase = index;
	ktest(KTEST_BENCH_MARK, index, 0);
	return bench_rdtsc();
}

/* End it: read the clock, then mark that no benchmark runs; the cycles between. */
static uint64_t bench_stop(uint64_t start)
{
	uint64_t cycles = bench_rdtsc() - start;

	ktest(KTEST_BENCH_MARK, BENCH_NONE, 0);
	return cycles;
}

/* printf has no 64-bit conversions: v in decimal, in buf (21 bytes). */
static const char *bench_u64(char *buf, uint64_t v)
{
	char *p = buf + 20;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return p;
}

/* Cycles per operation, rounded to the nearest. */
static uint64_t bench_per_op(uint64_t cycles, uint32_t n)
{
	return (cycles + n / 2) / n;
}

static void bench_report(const char *name, uint32_t n, uint64_t cycles)
{
	char total[21], per_op[21];

	printf("bench: phase=%u name=%s n=%u cycles=%s per_op=%s\n", bench_phase, name, n,
	       bench_u64(total, cycles), bench_u64(per_op, bench_per_op(cycles, n)));
}

static int bench_fail(const char *name, const char *why, int err)
{
	printf("bench: name=%s failed: %s (%d)\n", name, why, err);
	return 1;
}

/* --- system calls and privileged instructions ----------------------------- */

static int bench_syscall(void)
{
	uint64_t t = bench_start(BENCH_SYSCALL);

	for (int i = 0; i < BENCH_ITERATIONS; i++)
		getpid();
	bench_report("syscall", BENCH_ITERATIONS, bench_stop(t));
	return 0;
}

/* A ktest tool that does one privileged thing, n times: the in and crwr benchmarks. */
static int bench_ktest(const char *name, enum bench_index index, int tool)
{
	uint64_t t = bench_start(index);

	for (int i = 0; i < BENCH_ITERATIONS; i++)
		ktest(tool, 0, 0);
	bench_report(name, BENCH_ITERATIONS, bench_stop(t));
	return 0;
}

static __attribute__((noinline)) void bench_nothing(void)
{
	asm volatile(""); /* a body the compiler cannot remove, nor the call to it */
}

static int bench_callret(void)
{
	uint64_t t = bench_start(BENCH_CALLRET);

	for (int i = 0; i < BENCH_CALLRET_ITERATIONS; i++)
		bench_nothing();
	bench_report("callret", BENCH_CALLRET_ITERATIONS, bench_stop(t));
	return 0;
}

/* --- memory --------------------------------------------------------------- */

/* npages more pages of heap, not yet touched, or 0. */
static volatile uint8_t *bench_grow(int npages)
{
	void *p = sbrk(npages * BENCH_PAGE);

	return p == (void *)-1 ? 0 : p;
}

static int bench_pgfault(void)
{
	volatile uint8_t *region = bench_grow(BENCH_PGFAULT_PAGES);
	uint64_t t;

	if (!region)
		return bench_fail("pgfault", "sbrk", -1);
	t = bench_start(BENCH_PGFAULT);
	for (int i = 0; i < BENCH_PGFAULT_PAGES; i++)
		region[i * BENCH_PAGE] = 1;
	bench_report("pgfault", BENCH_PGFAULT_PAGES, bench_stop(t));
	sbrk(-BENCH_PGFAULT_PAGES * BENCH_PAGE);
	return 0;
}

/*
 * The break is page-aligned (the heap starts on a page and every sbrk
 * here moves it by whole pages), so sbrk(-4096) unmaps exactly the page
 * that sbrk(+4096) made room for.
 */
static int bench_ptemod(void)
{
	uint64_t t = bench_start(BENCH_PTEMOD);

	for (int i = 0; i < BENCH_ITERATIONS; i++) {
		volatile uint8_t *page = bench_grow(1);

		if (!page) {
			bench_stop(t);
			return bench_fail("ptemod", "sbrk", i);
		}
		*page = 1;
		sbrk(-BENCH_PAGE);
	}
	bench_report("ptemod", BENCH_ITERATIONS, bench_stop(t));
	return 0;
}

/*
 * Page i of the working set, at cache line i mod 64 of it: a stride of a
 * page and a line, so that consecutive reads use neither the same TLB
 * entry nor the same cache set.
 */
static uint32_t bench_tlb_read(const volatile uint8_t *region, int npages)
{
	uint32_t sum = 0;

	for (int i = 0; i < npages; i++)
		sum += region[i * BENCH_PAGE + (i % (BENCH_PAGE / BENCH_LINE)) * BENCH_LINE];
	return sum;
}

/* One working-set size: a sweep to warm up, then BENCH_TLB_READS reads timed. */
static void bench_tlbmiss_pages(const volatile uint8_t *region, int npages, unsigned phase)
{
	int sweeps = BENCH_TLB_READS / npages;
	char total[21], per_op[21];
	uint32_t sum = bench_tlb_read(region, npages);
	uint64_t t, cycles;

	t = bench_start(phase);
	for (int s = 0; s < sweeps; s++)
		sum += bench_tlb_read(region, npages);
	cycles = bench_stop(t);
	bench_sink = sum;
	printf("bench: phase=%u name=tlbmiss pages=%d n=%d cycles=%s per_op=%s\n", phase, npages,
	       sweeps * npages,
	       bench_u64(total, cycles),
	       bench_u64(per_op, bench_per_op(cycles, (uint32_t)(sweeps * npages))));
}

static int bench_tlbmiss(void)
{
	volatile uint8_t *region = bench_grow(BENCH_TLB_PAGES);

	if (!region)
		return bench_fail("tlbmiss", "sbrk", -1);
	/* Every page present before anything is timed: no demand-zero faults. */
	for (int i = 0; i < BENCH_TLB_PAGES; i++)
		region[i * BENCH_PAGE] = (uint8_t)i;
	for (int npages = 8, phase = BENCH_TLBMISS_8; npages <= BENCH_TLB_PAGES; npages *= 2)
		bench_tlbmiss_pages(region, npages, (unsigned)phase++);
	sbrk(-BENCH_TLB_PAGES * BENCH_PAGE);
	return 0;
}

/* --- exceptions ----------------------------------------------------------- */

/*
 * One divide by zero, in assembly so that the place to resume is known:
 * the ret right after the div.  EAX, ECX and EDX are the caller's to
 * lose in any call.
 */
void bench_divide(void);
extern const char bench_divide_resume[];
asm(".text\n"
    "bench_divide:\n"
    "\tmovl $1, %eax\n"
    "\txorl %edx, %edx\n"
    "\txorl %ecx, %ecx\n"
    "\tdivl %ecx\n"
    "bench_divide_resume:\n"
    "\tret\n");

static int bench_divzero(void)
{
	int err = ktest(KTEST_BENCH_DE_RESUME, (uint32_t)bench_divide_resume, 0);
	uint64_t t;

	if (err)
		return bench_fail("divzero", "no resume point", err);
	t = bench_start(BENCH_DIVZERO);
	for (int i = 0; i < BENCH_ITERATIONS; i++)
		bench_divide();
	bench_report("divzero", BENCH_ITERATIONS, bench_stop(t));
	ktest(KTEST_BENCH_DE_RESUME, 0, 0);
	return 0;
}

/* --- processes ------------------------------------------------------------ */

static void bench_yields(void)
{
	for (int i = 0; i < BENCH_ITERATIONS; i++)
		yield();
}

/*
 * Parent and child each yield BENCH_ITERATIONS times.  With nobody else
 * runnable (init sleeps in wait) every yield switches to the other, so
 * the parent's loop spans twice that many switches: its own yields and
 * the child's in between.
 */
static int bench_ctxsw(void)
{
	int pid = fork(), status;
	uint64_t t, cycles;

	if (pid == 0) {
		bench_yields();
		exit(0);
	}
	if (pid < 0)
		return bench_fail("ctxsw", "fork", pid);
	t = bench_start(BENCH_CTXSW);
	bench_yields();
	cycles = bench_stop(t);
	wait(&status);
	bench_report("ctxsw", 2 * BENCH_ITERATIONS, cycles);
	return 0;
}

static int bench_forkwait(void)
{
	uint64_t t = bench_start(BENCH_FORKWAIT);
	int status;

	for (int i = 0; i < BENCH_FORKWAIT_ITERATIONS; i++) {
		int pid = fork();

		if (pid == 0)
			exit(0);
		if (pid < 0) {
			bench_stop(t);
			return bench_fail("forkwait", "fork", pid);
		}
		wait(&status);
	}
	bench_report("forkwait", BENCH_FORKWAIT_ITERATIONS, bench_stop(t));
	return 0;
}

int main(const char *arg)
{
	int failed = 0;

	(void)arg;
	failed += bench_syscall();
	failed += bench_ktest("in", BENCH_IN, KTEST_BENCH_IN);
	failed += bench_ktest("crwr", BENCH_CRWR, KTEST_BENCH_CRWR);
	failed += bench_callret();
	failed += bench_pgfault();
	failed += bench_divzero();
	failed += bench_ptemod();
	failed += bench_tlbmiss();
	failed += bench_ctxsw();
	failed += bench_forkwait();
	printf("bench: done\n");
	return failed ? 1 : 0;
}
