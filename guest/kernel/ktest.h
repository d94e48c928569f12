/*
 * ktest.h - the kernel's self-tests, run for user programs by the
 * test-only system call ktest(test, a, b) (guest/lib/ktest_abi.h).
 *
 * A check returns 0 if it passed, or the number of the step that failed;
 * a tool returns a value or -GUEST_E*.  One module per subject:
 *   ktest_cpu.c  descriptor tables, control and debug registers, MSRs,
 *                caches, I/O ports
 *   ktest_irq.c  the interrupt flag, pending interrupts, hlt, interrupts
 *                in kernel mode
 *   ktest_mm.c   TLB flushes, CR0.WP, accessed and dirty bits, 4 MiB
 *                pages, kernel-mode faults on user addresses
 *   ktest_shadow.c  page tables as a shadow MMU finds them hard to follow:
 *                shared, recursive, changed in pieces, recycled
 *   ktest_bench.c  one privileged instruction per call, phase marks and a
 *                divide-error resume point, for the benchmarks (bench)
 */
#ifndef GUEST_KTEST_H
#define GUEST_KTEST_H

#include <stdbool.h>
#include <stdint.h>

int ktest_syscall(uint32_t test, uint32_t a, uint32_t b);

int ktest_cpu_gdt(void);
int ktest_cpu_idt(void);
int ktest_cpu_tr(void);
int ktest_cpu_ldt(void);
int ktest_cpu_cr0(void);
int ktest_cpu_cr2(void);
int ktest_cpu_cr3(void);
int ktest_cpu_cr4(void);
int ktest_cpu_dr(void);
int ktest_cpu_pic_mask(void);
int ktest_cpu_uart_scratch(void);
int ktest_cpu_sysenter_msrs(void);
int ktest_cpu_wbinvd(void);

int ktest_irq_pushf(void);
int ktest_irq_popf(void);
int ktest_irq_nest(void);
int ktest_irq_iopl(void);
int ktest_irq_sti_pending(void);
int ktest_irq_popf_pending(void);
int ktest_irq_hlt(void);
int ktest_irq_syscall_if(void);
int ktest_irq_kernel(void);

/* Loads and stores that may fault (the exception table): true if they did. */
bool ktest_mm_load(uint32_t va, uint32_t *v);
bool ktest_mm_store(uint32_t va, uint32_t v);
bool ktest_mm_faulted(uint32_t va, uint32_t err);

/* The 4 MiB region for bigpage, kept from the allocator at boot (main.c). */
uint32_t ktest_mm_reserve(uint32_t mem_end);

int ktest_mm_invlpg(void);
int ktest_mm_fault_fills(uint32_t a, uint32_t b);
int ktest_mm_user_store(uint32_t uva, uint32_t value);
int ktest_mm_user_load(uint32_t uva, uint32_t expected);
int ktest_mm_wp_user(uint32_t uva, uint32_t b);
int ktest_mm_wp_clear_store(uint32_t uva, uint32_t value);
int ktest_mm_wp_kernel_text(void);
int ktest_mm_pte_flags(uint32_t uva, uint32_t b);
int ktest_mm_pte_clear_ad(uint32_t uva, uint32_t b);
int ktest_mm_big_map(uint32_t uva, uint32_t b);
int ktest_mm_big_check(uint32_t salt, uint32_t b);
int ktest_mm_big_alias(uint32_t uva, uint32_t index);
int ktest_mm_pde_flags(uint32_t uva, uint32_t b);
int ktest_mm_big_unmap(uint32_t big_va, uint32_t alias_va);
int ktest_mm_probe(uint32_t va, uint32_t b);
int ktest_mm_kernel_pgdir(uint32_t a, uint32_t b);

int ktest_shadow_shared_pt(void);
int ktest_shadow_recursive(void);
int ktest_shadow_remap(void);
int ktest_shadow_stale(void);
int ktest_shadow_big_alias(void);
int ktest_shadow_wp(void);
int ktest_shadow_pge(void);
int ktest_shadow_partial(void);
int ktest_shadow_recycle(void);
int ktest_shadow_flip_begin(uint32_t uva, uint32_t b);
int ktest_shadow_flip(uint32_t uva, uint32_t which);
int ktest_shadow_flip_end(uint32_t uva, uint32_t b);

int ktest_bench_mark(uint32_t index, uint32_t b);
int ktest_bench_in(uint32_t a, uint32_t b);
int ktest_bench_crwr(uint32_t a, uint32_t b);
int ktest_bench_de_resume(uint32_t eip, uint32_t b);

#endif
