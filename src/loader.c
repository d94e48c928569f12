/*
 * loader.c - the boot loader's half of the Multiboot protocol.
 *
 * The image is the first thing a guest author hands us, and the first
 * hostile input: every number in it (offsets, sizes, addresses) is checked
 * before it is used, so that a truncated, corrupted or simply wrong file
 * gets one line naming the problem rather than a crash or a write outside
 * guest memory.
 *
 * What we accept is what GRUB and QEMU's -kernel accept for an ELF
 * Multiboot kernel: an ELF32 i386 executable with a Multiboot header
 * (magic, flags, checksum) in its first 8 KiB, whose PT_LOAD segments are
 * loaded at their physical addresses (p_paddr) and whose entry point is a
 * physical address.  On top of that, kvmshadow keeps two areas for itself
 * (include/layout.h): guest-physical memory below 1 MiB, where it puts the
 * Multiboot information, and the top 4 MiB of virtual addresses, where the
 * monitor lives in the shadow modes.
 */
#include <elf.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "loader.h"
#include "multiboot.h"

/* Multiboot header flags we can honour; bits 0-15 not here are fatal. */
#define LOADER_MB_SUPPORTED (MULTIBOOT_PAGE_ALIGN | MULTIBOOT_MEMORY_INFO)

int loader_read_file(const char *path, uint8_t **data, size_t *size, struct error *err)
{
	struct stat st;
	uint8_t *buf;
	size_t done = 0;
	int fd;

	/* O_NONBLOCK: a FIFO must not keep us waiting for a writer before
	 * the regular-file check below refuses it. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return error_errno(err, "cannot open guest image '%s'", path);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return error_errno(err, "cannot stat guest image '%s'", path);
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return error_set(err, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > LOADER_MAX_FILE) {
		close(fd);
		return error_set(err, "%s: file is %lld bytes; kvmshadow reads images up to 1 GiB",
				 path, (long long)st.st_size);
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return error_set(err, "%s: out of memory reading the image", path);
	}
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + done, (size_t)st.st_size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			close(fd);
			return n < 0 ? error_errno(err, "cannot read guest image '%s'", path)
				     : error_set(err, "%s: file shrank while being read", path);
		}
		done += (size_t)n;
	}
	close(fd);
	*data = buf;
	*size = done;
	return 0;
}

static int loader_check_ehdr(const char *name, const uint8_t *data, size_t size, Elf32_Ehdr *eh,
			     struct error *err)
{
	if (size < SELFMAG || memcmp(data, ELFMAG, SELFMAG))
		return error_set(err, "%s: not an ELF file (no \\x7fELF magic)", name);
	if (size < EI_NIDENT || data[EI_CLASS] != ELFCLASS32)
		return error_set(
		    err, "%s: ELF class is %s; kvmshadow boots 32-bit (ELFCLASS32) kernels", name,
		    size > EI_CLASS && data[EI_CLASS] == ELFCLASS64 ? "64-bit" : "unknown");
	if (data[EI_DATA] != ELFDATA2LSB)
		return error_set(err, "%s: ELF data is not little-endian", name);
	if (size < sizeof(*eh))
		return error_set(err, "%s: truncated ELF header (%zu bytes)", name, size);
	memcpy(eh, data, sizeof(*eh));
	if (eh->e_machine != EM_386)
		return error_set(err, "%s: ELF machine is %u, not i386 (EM_386 = 3)", name,
				 eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return error_set(err, "%s: ELF type is %u, not an executable (ET_EXEC)", name,
				 eh->e_type);
	if (eh->e_phentsize != sizeof(Elf32_Phdr))
		return error_set(err, "%s: program header size is %u, expected %zu", name,
				 eh->e_phentsize, sizeof(Elf32_Phdr));
	if (eh->e_phnum == 0)
		return error_set(err, "%s: no program headers: nothing to load", name);
	if (eh->e_phoff > size || (size - eh->e_phoff) / sizeof(Elf32_Phdr) < eh->e_phnum)
		return error_set(err,
				 "%s: program headers (offset %u, %u entries) run past the end "
				 "of the file",
				 name, eh->e_phoff, eh->e_phnum);
	return 0;
}

/* Find a valid Multiboot header: 4-byte aligned, in the first 8 KiB. */
static int loader_find_multiboot(const char *name, const uint8_t *data, size_t size,
				 uint32_t *flags, struct error *err)
{
	size_t limit = size < MULTIBOOT_SEARCH ? size : MULTIBOOT_SEARCH;
	bool bad_checksum = false;

	for (size_t off = 0; off + 12 <= limit; off += MULTIBOOT_HEADER_ALIGN) {
		uint32_t word[3];

		memcpy(word, data + off, sizeof(word));
		if (word[0] != MULTIBOOT_HEADER_MAGIC)
			continue;
		if (word[0] + word[1] + word[2] != 0) {
			bad_checksum = true;
			continue;
		}
		*flags = word[1];
		return 0;
	}
	if (bad_checksum)
		return error_set(err,
				 "%s: Multiboot header checksum is wrong "
				 "(magic + flags + checksum must be 0)",
				 name);
	return error_set(err, "%s: no Multiboot header (magic 0x%08x) in the first 8 KiB", name,
			 MULTIBOOT_HEADER_MAGIC);
}

static int loader_check_flags(const char *name, uint32_t flags, struct error *err)
{
	uint32_t required = flags & 0xffff & ~LOADER_MB_SUPPORTED;

	if (flags & MULTIBOOT_AOUT_KLUDGE)
		return error_set(err,
				 "%s: Multiboot a.out kludge (flag 16) is not supported; "
				 "link the kernel as a plain ELF",
				 name);
	if (required & MULTIBOOT_VIDEO_MODE)
		return error_set(err,
				 "%s: Multiboot header requires a video mode (flag 2), "
				 "which kvmshadow does not provide",
				 name);
	if (required)
		return error_set(err,
				 "%s: Multiboot header requires unknown features (flags 0x%04x)",
				 name, required);
	return 0;
}

/* One PT_LOAD segment against the file, guest memory and reserved areas. */
static int loader_check_segment(const char *name, int index, const Elf32_Phdr *ph, size_t size,
				uint64_t mem_bytes, struct error *err)
{
	uint64_t pend = (uint64_t)ph->p_paddr + ph->p_memsz;
	uint64_t vend = (uint64_t)ph->p_vaddr + ph->p_memsz;

	if (ph->p_filesz > ph->p_memsz)
		return error_set(err,
				 "%s: segment %d has more file bytes (%u) than memory bytes (%u)",
				 name, index, ph->p_filesz, ph->p_memsz);
	if (ph->p_offset > size || size - ph->p_offset < ph->p_filesz)
		return error_set(err,
				 "%s: segment %d (file offset %u, %u bytes) runs past the end of "
				 "the file (%zu bytes)",
				 name, index, ph->p_offset, ph->p_filesz, size);
	if (ph->p_paddr < KERNEL_MIN_PA)
		return error_set(err,
				 "%s: segment %d at physical 0x%08x overlaps the VMM's reserved "
				 "low memory (below 0x%08x)",
				 name, index, ph->p_paddr, KERNEL_MIN_PA);
	if (pend > mem_bytes)
		return error_set(err,
				 "%s: segment %d [0x%08x-0x%08llx) lies outside guest memory "
				 "(%llu MiB); try a larger --mem",
				 name, index, ph->p_paddr, (unsigned long long)pend,
				 (unsigned long long)(mem_bytes >> 20));
	if (vend > VMM_RESERVED_VA)
		return error_set(err,
				 "%s: segment %d [0x%08x-0x%08llx) overlaps the VMM's reserved "
				 "virtual area (0x%08x and up)",
				 name, index, ph->p_vaddr, (unsigned long long)vend,
				 VMM_RESERVED_VA);
	return 0;
}

static int loader_add_segment(const char *name, const Elf32_Phdr *ph, struct loader_image *img,
			      struct error *err)
{
	struct loader_segment *s;

	for (int i = 0; i < img->nsegments; i++) {
		const struct loader_segment *o = &img->seg[i];

		if (ph->p_paddr < (uint64_t)o->paddr + o->memsz &&
		    o->paddr < (uint64_t)ph->p_paddr + ph->p_memsz)
			return error_set(err, "%s: segments overlap at physical 0x%08x", name,
					 ph->p_paddr > o->paddr ? ph->p_paddr : o->paddr);
	}
	if (img->nsegments == LOADER_MAX_SEGMENTS)
		return error_set(err, "%s: more than %d loadable segments", name,
				 LOADER_MAX_SEGMENTS);
	s = &img->seg[img->nsegments++];
	*s = (struct loader_segment){
	    .paddr = ph->p_paddr,
	    .vaddr = ph->p_vaddr,
	    .offset = ph->p_offset,
	    .filesz = ph->p_filesz,
	    .memsz = ph->p_memsz,
	    .flags = ph->p_flags,
	};
	return 0;
}

/*
 * Before looking at where the segments go, a plain question with a plain
 * answer: does the image fit in the guest's memory at all?
 */
static int loader_check_total(const char *name, const uint8_t *data, const Elf32_Ehdr *eh,
			      uint64_t mem_bytes, struct error *err)
{
	uint64_t total = 0;

	for (int i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr ph;

		memcpy(&ph, data + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD)
			total += ph.p_memsz;
	}
	if (total > mem_bytes - KERNEL_MIN_PA)
		return error_set(err,
				 "%s: image needs %llu KiB but guest memory above 1 MiB is only "
				 "%llu KiB; try a larger --mem",
				 name, (unsigned long long)(total >> 10),
				 (unsigned long long)((mem_bytes - KERNEL_MIN_PA) >> 10));
	return 0;
}

static int loader_segments(const char *name, const uint8_t *data, size_t size, const Elf32_Ehdr *eh,
			   uint64_t mem_bytes, struct loader_image *img, struct error *err)
{
	for (int i = 0; i < eh->e_phnum; i++) {
		Elf32_Phdr ph;

		memcpy(&ph, data + eh->e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP || ph.p_type == PT_DYNAMIC)
			return error_set(err, "%s: dynamically linked; a kernel must be static",
					 name);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (loader_check_segment(name, i, &ph, size, mem_bytes, err) ||
		    loader_add_segment(name, &ph, img, err))
			return -1;
	}
	if (img->nsegments == 0)
		return error_set(err, "%s: no loadable (PT_LOAD) segments", name);
	return 0;
}

static int loader_check_entry(const char *name, const struct loader_image *img, struct error *err)
{
	for (int i = 0; i < img->nsegments; i++)
		if (img->entry >= img->seg[i].paddr &&
		    img->entry - img->seg[i].paddr < img->seg[i].memsz)
			return 0;
	return error_set(err,
			 "%s: entry point 0x%08x is not inside any loaded segment (Multiboot "
			 "enters the kernel with paging off: the entry must be a physical address)",
			 name, img->entry);
}

int loader_parse(const char *name, const uint8_t *data, size_t size, uint64_t mem_bytes,
		 struct loader_image *img, struct error *err)
{
	Elf32_Ehdr eh;

	*img = (struct loader_image){.data = data, .size = size};
	if (mem_bytes <= KERNEL_MIN_PA)
		return error_set(err, "%s: guest memory must be larger than 1 MiB", name);
	if (loader_check_ehdr(name, data, size, &eh, err) ||
	    loader_find_multiboot(name, data, size, &img->mb_flags, err) ||
	    loader_check_flags(name, img->mb_flags, err) ||
	    loader_check_total(name, data, &eh, mem_bytes, err) ||
	    loader_segments(name, data, size, &eh, mem_bytes, img, err))
		return -1;
	img->entry = eh.e_entry;
	return loader_check_entry(name, img, err);
}

void loader_copy(const struct loader_image *img, uint8_t *guest_mem)
{
	for (int i = 0; i < img->nsegments; i++) {
		const struct loader_segment *s = &img->seg[i];

		memcpy(guest_mem + s->paddr, img->data + s->offset, s->filesz);
		memset(guest_mem + s->paddr + s->filesz, 0, s->memsz - s->filesz);
	}
}
