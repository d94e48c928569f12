/* bootinfo.h - what the boot loader told us, kept after boot. */
#ifndef GUEST_BOOTINFO_H
#define GUEST_BOOTINFO_H

#include <stdint.h>

#define BOOTINFO_CMDLINE_MAX	256

struct bootinfo {
	uint32_t mem_end;	/* physical end of the RAM that starts at 1 MiB */
	uint32_t mem_mib;	/* the machine's memory in MiB, for the banner */
	char cmdline[BOOTINFO_CMDLINE_MAX];
};

extern struct bootinfo bootinfo;

void bootinfo_read(uint32_t magic, uint32_t info_pa);

#endif
