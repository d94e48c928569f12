/*
 * inttest.c - interrupts and faults that arrive in the middle of
 * something: inside a system call, inside one instruction.
 *
 *  - A system call runs with interrupts on (its gate is a trap gate); an
 *    exception handler with them off (interrupt gates).
 *  - Timer interrupts arrive while the kernel spins inside a system call,
 *    and return to it intact: an interrupt in kernel mode, with no change
 *    of privilege, taken and returned from with iret.
 *  - The kernel touches an untouched heap page from kernel mode, without
 *    checking first: a page fault inside a system call, which the kernel
 *    resolves by demand-zero and retries.  It must happen exactly once.
 *  - A kernel access to memory the process does not own gives -EFAULT,
 *    and so do buffers that run past the break or into read-only memory
 *    (sysinfo checks plainly bad pointers; these are the edges).
 *  - A system call reads a string from an untouched heap page: empty.
 *  - rep movsb into, out of and across untouched pages: the fault comes
 *    in the middle of the instruction, which must resume where it
 *    stopped, with the right registers.
 *
 * Under a VMM each of these is a nested event - an interrupt or fault
 * reflected into a guest kernel that is itself in the middle of a system
 * call, or of a string instruction - that must come back exactly where
 * it left off.
 */
#include "ulib.h"

#define PAGE		4096u
#define UNOWNED		0x40000000u	/* between the heap and the stack */
#define BELOW_STACK	0xbfeffffcu	/* the last word below the stack region */
#define BIG_COPY	(16 * PAGE)

static int failures;

static void check(const char *what, int ok)
{
	printf("inttest: %s: %s\n", what, ok ? "PASS" : "FAIL");
	failures += !ok;
}

/* n heap pages that nobody has touched yet; the break ends right after them. */
static uint8_t *fresh_pages(uint32_t n)
{
	uint8_t *brk = sbrk(0);
	uint32_t pad = (PAGE - (uint32_t)brk % PAGE) % PAGE;

	if (sbrk((int)(pad + n * PAGE)) == (void *)-1)
		return 0;
	return brk + pad;
}

static int fills(void)
{
	return ktest(KTEST_FAULT_FILLS, 0, 0);
}

static int kernel_store_is_filled(void)
{
	uint32_t *page = (uint32_t *)fresh_pages(1);
	int before = fills();

	if (!page || ktest(KTEST_USER_STORE, (uint32_t)&page[3], 0x1234abcd) != 0)
		return 0;
	return fills() == before + 1 && page[3] == 0x1234abcd && page[0] == 0 &&
	       page[PAGE / 4 - 1] == 0;
}

static int kernel_load_is_filled(void)
{
	uint32_t *page = (uint32_t *)fresh_pages(1);
	int before = fills();

	if (!page || ktest(KTEST_USER_LOAD, (uint32_t)&page[100], 0) != 0)
		return 0;
	return fills() == before + 1 && page[100] == 0;
}

static int kernel_access_unowned(void)
{
	uint32_t past_break = (uint32_t)fresh_pages(0);
	int before = fills();

	return ktest(KTEST_USER_STORE, UNOWNED, 1) == -GUEST_EFAULT &&
	       ktest(KTEST_USER_LOAD, UNOWNED, 0) == -GUEST_EFAULT &&
	       ktest(KTEST_USER_LOAD, past_break, 0) == -GUEST_EFAULT &&
	       ktest(KTEST_USER_STORE, BELOW_STACK, 1) == -GUEST_EFAULT &&
	       ktest(KTEST_USER_STORE, 0xc0000000u, 1) == -GUEST_EFAULT && fills() == before;
}

/*
 * Buffers that start in good memory and end in bad: the check covers the
 * whole buffer before anything is done, so nothing is printed.  And a
 * status stored into the program's read-only code.
 */
static int edges_fail(void)
{
	char *page = (char *)fresh_pages(1), *end = page + PAGE;

	if (!page)
		return 0;
	memcpy(end - 4, "ABCD", 4);
	return write(1, end - 4, 8) == -GUEST_EFAULT && exec(end - 4, 0) == -GUEST_EFAULT &&
	       wait((int *)(uint32_t)main) == -GUEST_EFAULT;
}

static int string_from_fresh_page(void)
{
	char *page = (char *)fresh_pages(1);

	return page && exec(page, 0) == -GUEST_ENOENT && page[0] == 0;
}

/* rep movsb of n bytes; true if it ended with ECX 0 and ESI, EDI n further on. */
static int rep_movsb(void *dst, const void *src, uint32_t n)
{
	void *d = dst;
	const void *s = src;
	uint32_t count = n;

	asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(count) : : "memory");
	return count == 0 && d == (uint8_t *)dst + n && s == (const uint8_t *)src + n;
}

static void fill(uint8_t *p, uint32_t n, uint32_t seed)
{
	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static int all_bytes(const uint8_t *p, uint32_t n, uint8_t v)
{
	for (uint32_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/* 512 bytes to 200 bytes before the end of a touched page: the rest land in a fresh one. */
static int movsb_into_fresh_page(void)
{
	static uint8_t src[512];
	uint8_t *p = fresh_pages(2), *dst;

	if (!p)
		return 0;
	p[0] = 1;
	dst = p + PAGE - 200;
	fill(src, sizeof(src), 1);
	return rep_movsb(dst, src, sizeof(src)) && !memcmp(dst, src, sizeof(src)) &&
	       dst[-1] == 0 && all_bytes(dst + sizeof(src), PAGE - 312, 0);
}

/* From 200 bytes before the end of a touched page on into a fresh one: zeroes. */
static int movsb_from_fresh_page(void)
{
	static uint8_t out[512];
	uint8_t *p = fresh_pages(2);

	if (!p)
		return 0;
	memset(p, 0x5a, PAGE);
	return rep_movsb(out, p + PAGE - 200, sizeof(out)) && all_bytes(out, 200, 0x5a) &&
	       all_bytes(out + 200, sizeof(out) - 200, 0);
}

/* One rep movsb that faults 16 times. */
static int movsb_across_fresh_pages(void)
{
	uint8_t *from = fresh_pages(BIG_COPY / PAGE), *to = fresh_pages(BIG_COPY / PAGE);

	if (!from || !to)
		return 0;
	fill(from, BIG_COPY, 3);
	return rep_movsb(to, from, BIG_COPY) && !memcmp(to, from, BIG_COPY);
}

int main(const char *arg)
{
	(void)arg;
	check("a system call runs with interrupts on, an exception handler with them off",
	      ktest(KTEST_SYSCALL_IF, 0, 0) == 0);
	check("timer interrupts arrive during a system call and leave it intact",
	      ktest(KTEST_KERNEL_IRQ, 0, 0) == 0);
	check("a kernel store to an untouched heap page faults once and is filled in",
	      kernel_store_is_filled());
	check("a kernel load from an untouched heap page faults once and reads zero",
	      kernel_load_is_filled());
	check("a kernel access to memory the process does not own gives -EFAULT",
	      kernel_access_unowned());
	check("buffers running past the break or into code give -EFAULT", edges_fail());
	check("a string read from an untouched heap page is empty", string_from_fresh_page());
	check("rep movsb into an untouched page resumes after the fault",
	      movsb_into_fresh_page());
	check("rep movsb from an untouched page reads zeroes", movsb_from_fresh_page());
	check("rep movsb across 16 untouched pages", movsb_across_fresh_pages());
	return failures ? 1 : 0;
}
