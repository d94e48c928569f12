/*
 * boot.c - the last thing a boot loader does.
 *
 * Multiboot's contract with the kernel (section 3.2 of the specification):
 * the CPU is in 32-bit protected mode with paging off, CS is a flat 4 GiB
 * code segment and DS, ES, FS, GS and SS flat data segments, interrupts
 * are disabled, EAX holds the magic 0x2BADB002 and EBX the physical
 * address of the Multiboot information.  Everything else (GDTR, IDTR,
 * ESP) is the kernel's business to set before it relies on it.
 *
 * A real boot loader gets there by executing instructions; we simply write
 * the end state into the vCPU.  For good measure the GDT that our
 * segment registers describe really exists in guest memory at BOOT_GDT_PA,
 * so a kernel that reloads a segment register before its own lgdt keeps
 * working, as it would after GRUB.
 */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "boot.h"
#include "layout.h"
#include "multiboot.h"
#include "x86.h"

static void boot_put_mmap(uint8_t *mem, uint64_t mem_bytes, struct multiboot_info *info)
{
	struct multiboot_mmap_entry map[] = {
	    {.addr = 0, .len = LOW_MEMORY_END, .type = MULTIBOOT_MEMORY_AVAILABLE},
	    {.addr = 0xf0000, .len = 0x10000, .type = MULTIBOOT_MEMORY_RESERVED},
	    {.addr = KERNEL_MIN_PA,
	     .len = mem_bytes - KERNEL_MIN_PA,
	     .type = MULTIBOOT_MEMORY_AVAILABLE},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		map[i].size = sizeof(map[i]) - sizeof(map[i].size);
	memcpy(mem + BOOT_MMAP_PA, map, sizeof(map));
	info->mmap_addr = BOOT_MMAP_PA;
	info->mmap_length = sizeof(map);
}

static void boot_put_gdt(uint8_t *mem)
{
	/* null, flat code (type 0xa: execute/read), flat data (0x2: read/write) */
	static const uint64_t gdt[3] = {0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};

	memcpy(mem + BOOT_GDT_PA, gdt, sizeof(gdt));
}

int boot_write_info(uint8_t *mem, uint64_t mem_bytes, const char *image, const char *cmdline,
		    struct error *err)
{
	struct multiboot_info info = {0};
	char *line = (char *)mem + BOOT_CMDLINE_PA;
	int len;

	len = snprintf(line, BOOT_CMDLINE_MAX + 1, "%s%s%s", image, cmdline ? " " : "",
		       cmdline ? cmdline : "");
	if (len < 0 || (unsigned)len > BOOT_CMDLINE_MAX)
		return error_set(err, "the Multiboot command line is %d bytes; at most %u fit", len,
				 BOOT_CMDLINE_MAX);
	strcpy((char *)mem + BOOT_NAME_PA, BOOT_LOADER_NAME);
	info.flags = MULTIBOOT_INFO_MEMORY | MULTIBOOT_INFO_CMDLINE | MULTIBOOT_INFO_MEM_MAP |
		     MULTIBOOT_INFO_BOOT_LOADER_NAME;
	info.mem_lower = LOW_MEMORY_END >> 10;
	info.mem_upper = (uint32_t)((mem_bytes - KERNEL_MIN_PA) >> 10);
	info.cmdline = BOOT_CMDLINE_PA;
	info.boot_loader_name = BOOT_NAME_PA;
	boot_put_mmap(mem, mem_bytes, &info);
	memcpy(mem + BOOT_INFO_PA, &info, sizeof(info));
	boot_put_gdt(mem);
	return 0;
}

static void boot_fill_sregs(struct kvm_sregs *sregs)
{
	struct kvm_segment data = kvm_flat_segment(BOOT_DS, 0x3);

	sregs->cs = kvm_flat_segment(BOOT_CS, 0xb);
	sregs->ds = sregs->es = sregs->fs = sregs->gs = sregs->ss = data;
	sregs->gdt.base = BOOT_GDT_PA;
	sregs->gdt.limit = 3 * 8 - 1;
	sregs->idt.base = 0;
	sregs->idt.limit = 0;
	/* A busy 32-bit TSS and an empty LDT, which the kernel replaces with
	 * its own ltr/lldt before any privilege change needs them. */
	sregs->tr = (struct kvm_segment){.limit = 0x67, .type = DESC_TSS32_BUSY, .present = 1};
	sregs->ldt = (struct kvm_segment){.limit = 0xffff, .type = 0x2, .present = 1};
	sregs->cr0 = CR0_PE | CR0_ET;
	sregs->cr3 = 0;
	sregs->cr4 = 0;
	sregs->efer = 0;
}

int boot_set_entry_state(struct kvm *kvm, uint32_t entry, struct error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {
	    .rax = MULTIBOOT_BOOTLOADER_MAGIC,
	    .rbx = BOOT_INFO_PA,
	    .rsp = BOOT_STACK_TOP,
	    .rip = entry,
	    .rflags = FL_FIXED, /* IF clear */
	};

	if (ioctl(kvm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return error_errno(err, "KVM_GET_SREGS failed");
	boot_fill_sregs(&sregs);
	if (ioctl(kvm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return error_errno(err, "KVM_SET_SREGS failed");
	if (ioctl(kvm->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return error_errno(err, "KVM_SET_REGS failed");
	return 0;
}
