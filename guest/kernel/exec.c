/*
 * exec.c - replace a process's program with a built-in one.
 *
 * exec builds a complete new address space on the side - program
 * segments from the ELF image, one page of stack holding the argument -
 * and only when all of it succeeded swaps it in and frees the old one.
 * A failed exec (no such program, no memory) leaves the process exactly
 * as it was, to report the error.
 *
 * The ELF loader is as small as it can be: the programs are our own, but
 * every field is still checked, so that a broken build cannot make the
 * kernel map memory outside the user half.  Each PT_LOAD segment becomes
 * zeroed pages (user, writable if the segment is) with the file's bytes
 * copied in; what is left over is the zero-filled .bss.  The heap starts
 * at the page after the highest segment.
 *
 * The new program starts at the ELF entry point as if called by a
 * function that was passed one argument, a pointer to the argument
 * string, which sits at the top of its stack:
 *
 *	USER_STACK_TOP -> +----------------------+
 *	                  | "argument string\0"  |
 *	                  +----------------------+ (aligned down to 16)
 *	                  | padding              |
 *	     esp + 4 ->   | pointer to the string|  16-byte aligned, as the
 *	     esp     ->   | 0 (return address)   |  i386 ABI wants at a call
 */
#include "elf.h"
#include "exec.h"
#include "guest_abi.h"
#include "memlayout.h"
#include "str.h"
#include "vm.h"

struct exec_program_image {
	const char *name;
	const uint8_t *image;
	uint32_t size;
};

/* programs.S */
extern const struct exec_program_image exec_programs[], exec_programs_end[];

static const struct exec_program_image *exec_find(const char *name)
{
	for (const struct exec_program_image *p = exec_programs; p < exec_programs_end; p++)
		if (!strcmp(p->name, name))
			return p;
	return 0;
}

static int exec_check_header(const struct exec_program_image *prog, struct elf_header *eh)
{
	if (prog->size < sizeof(*eh))
		return -GUEST_EINVAL;
	memcpy(eh, prog->image, sizeof(*eh));
	if (eh->magic != ELF_MAGIC || eh->class != ELF_CLASS32 || eh->data != ELF_DATA_LSB ||
	    eh->type != ELF_ET_EXEC || eh->machine != ELF_EM_386 ||
	    eh->phentsize != sizeof(struct elf_phdr) || eh->phoff > prog->size ||
	    (prog->size - eh->phoff) / sizeof(struct elf_phdr) < eh->phnum)
		return -GUEST_EINVAL;
	return 0;
}

static int exec_load_segment(uint32_t *pgdir, const struct exec_program_image *prog,
			     const struct elf_phdr *ph)
{
	uint32_t flags = PTE_P | PTE_U | (ph->flags & ELF_PF_W ? PTE_W : 0);

	if (ph->filesz > ph->memsz || ph->offset > prog->size ||
	    prog->size - ph->offset < ph->filesz || ph->vaddr < USER_MIN ||
	    ph->vaddr >= USER_HEAP_LIMIT || ph->memsz > USER_HEAP_LIMIT - ph->vaddr)
		return -GUEST_EINVAL;
	if (vm_populate(pgdir, ph->vaddr, ph->vaddr + ph->memsz, flags) < 0)
		return -GUEST_ENOMEM;
	vm_copy_out(pgdir, ph->vaddr, prog->image + ph->offset, ph->filesz);
	return 0;
}

/* Load every PT_LOAD segment; *end is where the highest one ends. */
static int exec_load_elf(uint32_t *pgdir, const struct exec_program_image *prog,
			 uint32_t *entry, uint32_t *end)
{
	struct elf_header eh;
	int err = exec_check_header(prog, &eh);

	*end = 0;
	for (int i = 0; !err && i < eh.phnum; i++) {
		struct elf_phdr ph;

		memcpy(&ph, prog->image + eh.phoff + i * sizeof(ph), sizeof(ph));
		if (ph.type != ELF_PT_LOAD || ph.memsz == 0)
			continue;
		err = exec_load_segment(pgdir, prog, &ph);
		if (ph.vaddr + ph.memsz > *end)
			*end = ph.vaddr + ph.memsz;
	}
	*entry = eh.entry;
	return err;
}

/* The first stack page, holding arg; returns the initial ESP. */
static int exec_setup_stack(uint32_t *pgdir, const char *arg, uint32_t *esp)
{
	uint32_t len = strlen(arg) + 1;
	uint32_t str = USER_STACK_TOP - len;
	uint32_t frame[2] = { 0, str };	/* return address, argument */
	uint32_t sp = (str & ~15u) - 16;

	if (vm_map_zeroed(pgdir, USER_STACK_TOP - PAGE_SIZE, PTE_USER_RW) < 0)
		return -GUEST_ENOMEM;
	vm_copy_out(pgdir, str, arg, len);
	sp -= 4;
	vm_copy_out(pgdir, sp, frame, sizeof(frame));
	*esp = sp;
	return 0;
}

/*
 * Make process p run program name with argument arg (kernel strings).
 * p's trap frame is rewritten so that its return to user mode lands at
 * the new program's entry point.
 */
int exec_program(struct proc *p, const char *name, const char *arg)
{
	const struct exec_program_image *prog = exec_find(name);
	uint32_t *pgdir, *old = p->pgdir;
	uint32_t entry, end, esp;
	int err;

	if (!prog)
		return -GUEST_ENOENT;
	if (strlen(arg) >= EXEC_ARG_MAX)
		return -GUEST_ENAMETOOLONG;
	if (!(pgdir = vm_create()))
		return -GUEST_ENOMEM;
	err = exec_load_elf(pgdir, prog, &entry, &end);
	if (!err)
		err = exec_setup_stack(pgdir, arg, &esp);
	if (err) {
		vm_free(pgdir);
		return err;
	}

	p->pgdir = pgdir;
	p->heap_start = p->brk = PAGE_ROUND_UP(end);
	p->de_resume = 0;	/* an address in the old program */
	strlcpy(p->name, name, sizeof(p->name));
	if (p == proc_current)
		vm_switch(pgdir);
	if (old)
		vm_free(old);

	p->tf->edi = p->tf->esi = p->tf->ebp = p->tf->ebx = 0;
	p->tf->edx = p->tf->ecx = p->tf->eax = 0;
	p->tf->eip = entry;
	p->tf->esp = esp;
	return 0;
}
