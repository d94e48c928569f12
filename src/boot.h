/*
 * boot.h - hand a loaded kernel the machine state Multiboot promises.
 */
#ifndef KVMSHADOW_BOOT_H
#define KVMSHADOW_BOOT_H

#include <stdint.h>

#include "error.h"
#include "kvm.h"

#define BOOT_LOADER_NAME "kvmshadow"

/* The flat code and data selectors of the boot GDT. */
#define BOOT_CS 0x08
#define BOOT_DS 0x10
#define BOOT_CMDLINE_MAX (0xa000u - 0x9400u - 1)

/*
 * Write the Multiboot information (memory size and map, command line,
 * boot loader name) and the flat boot GDT into low guest memory.  The command line is
 * "IMAGE CMDLINE", as QEMU and GRUB put the kernel's path first.
 */
int boot_write_info(uint8_t *mem, uint64_t mem_bytes, const char *image, const char *cmdline,
		    struct error *err);

/* Set the vCPU's registers for the jump to 'entry' (hw mode). */
int boot_set_entry_state(struct kvm *kvm, uint32_t entry, struct error *err);

#endif
