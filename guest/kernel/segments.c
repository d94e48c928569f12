/*
 * segments.c - the global descriptor table and the task-state segment.
 *
 * x86 protection is built from segments even when, as here, every
 * segment is flat (base 0, limit 4 GiB) and paging does the real work.
 * What the segments still decide is privilege: code running from a
 * descriptor with DPL 0 is the kernel (ring 0), DPL 3 is a user program
 * (ring 3).  So we need four flat segments - kernel code and data, user
 * code and data - and one more descriptor for the TSS.
 *
 * The TSS holds a single thing we care about: SS0:ESP0, the stack the CPU
 * switches to when an interrupt or system call arrives from ring 3.  Each
 * process has its own kernel stack, so the scheduler moves ESP0 on every
 * switch (segments_set_kernel_stack).  A VMM that runs this kernel in
 * ring 1 must notice these descriptors and this TSS - which is why the
 * kernel loads them with lgdt and ltr exactly as on bare hardware.
 */
#include "cpu.h"
#include "segments.h"

static struct x86_desc segments_gdt[GDT_ENTRIES];
static struct x86_tss segments_tss;

static struct x86_desc segments_desc(uint32_t base, uint32_t limit, uint8_t access,
				     uint8_t flags)
{
	return (struct x86_desc){
		.limit_lo = limit & 0xffff,
		.base_lo = base & 0xffff,
		.base_mid = (base >> 16) & 0xff,
		.access = access,
		.limit_hi_flags = (uint8_t)(flags | ((limit >> 16) & 0x0f)),
		.base_hi = base >> 24,
	};
}

/* A flat 4 GiB code or data segment at privilege level dpl. */
static struct x86_desc segments_flat(int dpl, int code)
{
	uint8_t access = DESC_P | DESC_DPL(dpl) | DESC_S | DESC_RW | (code ? DESC_CODE : 0);

	return segments_desc(0, 0xfffff, access, DESC_G | DESC_DB);
}

/* Reload every segment register so that none caches the boot loader's GDT. */
static void segments_reload(void)
{
	asm volatile("ljmp %0, $1f\n"
		     "1:\n"
		     "movw %w1, %%ds\n"
		     "movw %w1, %%es\n"
		     "movw %w1, %%fs\n"
		     "movw %w1, %%gs\n"
		     "movw %w1, %%ss\n"
		     :
		     : "i"(KERNEL_CS), "r"(KERNEL_DS)
		     : "memory");
}

void segments_init(void)
{
	struct x86_dtr gdtr = { .limit = sizeof(segments_gdt) - 1,
				.base = (uint32_t)segments_gdt };

	segments_gdt[GDT_KERNEL_CODE] = segments_flat(0, 1);
	segments_gdt[GDT_KERNEL_DATA] = segments_flat(0, 0);
	segments_gdt[GDT_USER_CODE] = segments_flat(3, 1);
	segments_gdt[GDT_USER_DATA] = segments_flat(3, 0);

	/* No I/O permission bitmap (its offset is past the limit), so user
	 * programs cannot touch I/O ports: in/out from ring 3 is a #GP. */
	segments_tss.ss0 = KERNEL_DS;
	segments_tss.iomap_base = sizeof(segments_tss);
	segments_gdt[GDT_TSS] = segments_desc((uint32_t)&segments_tss, sizeof(segments_tss) - 1,
					      DESC_P | DESC_DPL(0) | DESC_TSS32, 0);

	lgdt(&gdtr);
	segments_reload();
	ltr(TSS_SEL);
}

void segments_set_kernel_stack(uint32_t esp0)
{
	segments_tss.esp0 = esp0;
}
