/*
 * ktest.c - the test-only system call: run one of the kernel's
 * self-tests for a user program.
 *
 * The guest kernel is kvmshadow's test: run deprivileged in ring 1, under
 * a monitor that traps and emulates its privileged instructions, reflects
 * its system calls, interrupts and faults, and shadows its page tables,
 * it must behave exactly as on a real CPU.  Much of that can be seen from
 * user mode - a program's output, its memory, its exit status - but not
 * all: whether lgdt loaded the table it was given, whether popf restored
 * IF, whether invlpg dropped a translation are questions only the kernel
 * can ask.  So the test programs ask the kernel to ask them, through
 * ktest(test, a, b), and print PASS or FAIL for each answer.
 *
 * Each test is a check (a self-test: 0 if it passed, else the number of
 * the step that failed) or a tool (one thing a program cannot do for
 * itself); the table below says which, and which function does it.
 * Every check leaves the machine as it found it, and none can bring the
 * kernel down by failing: an instruction that may fault is in the
 * exception table (extable.c), and a test that finds the wrong answer
 * says so and cleans up.
 */
#include "guest_abi.h"
#include "ktest.h"
#include "ktest_abi.h"

struct ktest_entry {
	int (*check)(void);
	int (*tool)(uint32_t a, uint32_t b);
};

static const struct ktest_entry ktest_table[KTEST_COUNT] = {
	/* privtest */
	[KTEST_GDT] = { .check = ktest_cpu_gdt },
	[KTEST_IDT] = { .check = ktest_cpu_idt },
	[KTEST_TR] = { .check = ktest_cpu_tr },
	[KTEST_LDT] = { .check = ktest_cpu_ldt },
	[KTEST_CR0] = { .check = ktest_cpu_cr0 },
	[KTEST_CR2] = { .check = ktest_cpu_cr2 },
	[KTEST_CR3] = { .check = ktest_cpu_cr3 },
	[KTEST_CR4] = { .check = ktest_cpu_cr4 },
	[KTEST_DR] = { .check = ktest_cpu_dr },
	[KTEST_PUSHF] = { .check = ktest_irq_pushf },
	[KTEST_POPF] = { .check = ktest_irq_popf },
	[KTEST_IRQ_NEST] = { .check = ktest_irq_nest },
	[KTEST_IOPL] = { .check = ktest_irq_iopl },
	[KTEST_STI_PENDING] = { .check = ktest_irq_sti_pending },
	[KTEST_POPF_PENDING] = { .check = ktest_irq_popf_pending },
	[KTEST_PIC_MASK] = { .check = ktest_cpu_pic_mask },
	[KTEST_UART_SCRATCH] = { .check = ktest_cpu_uart_scratch },
	[KTEST_INVLPG] = { .check = ktest_mm_invlpg },
	[KTEST_SYSENTER_MSRS] = { .check = ktest_cpu_sysenter_msrs },
	[KTEST_WBINVD] = { .check = ktest_cpu_wbinvd },
	[KTEST_HLT] = { .check = ktest_irq_hlt },
	/* inttest */
	[KTEST_SYSCALL_IF] = { .check = ktest_irq_syscall_if },
	[KTEST_KERNEL_IRQ] = { .check = ktest_irq_kernel },
	[KTEST_FAULT_FILLS] = { .tool = ktest_mm_fault_fills },
	[KTEST_USER_STORE] = { .tool = ktest_mm_user_store },
	[KTEST_USER_LOAD] = { .tool = ktest_mm_user_load },
	/* wptest */
	[KTEST_WP_USER] = { .tool = ktest_mm_wp_user },
	[KTEST_WP_CLEAR_STORE] = { .tool = ktest_mm_wp_clear_store },
	[KTEST_WP_KERNEL_TEXT] = { .check = ktest_mm_wp_kernel_text },
	[KTEST_PTE_FLAGS] = { .tool = ktest_mm_pte_flags },
	[KTEST_PTE_CLEAR_AD] = { .tool = ktest_mm_pte_clear_ad },
	/* bigpage */
	[KTEST_BIG_MAP] = { .tool = ktest_mm_big_map },
	[KTEST_BIG_CHECK] = { .tool = ktest_mm_big_check },
	[KTEST_BIG_ALIAS] = { .tool = ktest_mm_big_alias },
	[KTEST_PDE_FLAGS] = { .tool = ktest_mm_pde_flags },
	[KTEST_BIG_UNMAP] = { .tool = ktest_mm_big_unmap },
	/* kspy */
	[KTEST_PROBE] = { .tool = ktest_mm_probe },
	[KTEST_KERNEL_PGDIR] = { .tool = ktest_mm_kernel_pgdir },
	/* ptshadow */
	[KTEST_SHADOW_SHARED_PT] = { .check = ktest_shadow_shared_pt },
	[KTEST_SHADOW_RECURSIVE] = { .check = ktest_shadow_recursive },
	[KTEST_SHADOW_REMAP] = { .check = ktest_shadow_remap },
	[KTEST_SHADOW_STALE] = { .check = ktest_shadow_stale },
	[KTEST_SHADOW_BIG_ALIAS] = { .check = ktest_shadow_big_alias },
	[KTEST_SHADOW_WP] = { .check = ktest_shadow_wp },
	[KTEST_SHADOW_PGE] = { .check = ktest_shadow_pge },
	[KTEST_SHADOW_PARTIAL] = { .check = ktest_shadow_partial },
	[KTEST_SHADOW_RECYCLE] = { .check = ktest_shadow_recycle },
	/* ptupdate */
	[KTEST_FLIP_BEGIN] = { .tool = ktest_shadow_flip_begin },
	[KTEST_FLIP] = { .tool = ktest_shadow_flip },
	[KTEST_FLIP_END] = { .tool = ktest_shadow_flip_end },
	/* bench */
	[KTEST_BENCH_MARK] = { .tool = ktest_bench_mark },
	[KTEST_BENCH_IN] = { .tool = ktest_bench_in },
	[KTEST_BENCH_CRWR] = { .tool = ktest_bench_crwr },
	[KTEST_BENCH_DE_RESUME] = { .tool = ktest_bench_de_resume },
};

int ktest_syscall(uint32_t test, uint32_t a, uint32_t b)
{
	const struct ktest_entry *t;

	if (test >= KTEST_COUNT)
		return -GUEST_EINVAL;
	t = &ktest_table[test];
	if (t->check)
		return t->check();
	if (t->tool)
		return t->tool(a, b);
	return -GUEST_EINVAL;
}
