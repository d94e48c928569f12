/*
 * uaccess.c - checking and copying user memory for system calls.
 *
 * A system call's pointer arguments come from the user program and mean
 * nothing until checked: write(1, 0, 5) or write(1, (char *)0xc0000000,
 * 64) must fail with -EFAULT, not crash the kernel or print the kernel's
 * memory.  So before the kernel touches a user buffer, uaccess_check asks
 * of every page in it what the MMU would ask of a user access: is it
 * below KERNEL_BASE, present, user-accessible, writable if we write?  A
 * page the process is owed but has not touched yet (heap, stack) is
 * zero-filled on the spot, just as the page-fault handler would.
 *
 * After the check the kernel reads or writes the buffer directly, through
 * the process's own mappings (the user half of the current address space)
 * - nothing can unmap it in between, because the kernel is not preempted
 * and only the process itself changes its address space.
 */
#include "fault.h"
#include "guest_abi.h"
#include "memlayout.h"
#include "proc.h"
#include "str.h"
#include "uaccess.h"

int uaccess_check(uint32_t uva, uint32_t len, int write)
{
	if (len == 0)
		return 0;
	if (uva >= USER_STACK_TOP || len > USER_STACK_TOP - uva)
		return -GUEST_EFAULT;
	for (uint32_t va = PAGE_ROUND_DOWN(uva); va < uva + len; va += PAGE_SIZE)
		if (fault_resolve(proc_current, va, write) != FAULT_OK)
			return -GUEST_EFAULT;
	return 0;
}

int uaccess_copy_in(void *dst, uint32_t usrc, uint32_t len)
{
	if (uaccess_check(usrc, len, UACCESS_READ) < 0)
		return -GUEST_EFAULT;
	memcpy(dst, (const void *)usrc, len);
	return 0;
}

int uaccess_copy_out(uint32_t udst, const void *src, uint32_t len)
{
	if (uaccess_check(udst, len, UACCESS_WRITE) < 0)
		return -GUEST_EFAULT;
	memcpy((void *)udst, src, len);
	return 0;
}

/*
 * Copy a NUL-terminated user string into dst[size]; return its length,
 * -EFAULT if it runs into memory the process cannot read, or
 * -ENAMETOOLONG if it does not fit.  One byte at a time, checking each
 * page as we reach it: the string may end just before an unmapped page.
 */
int uaccess_copy_string(char *dst, uint32_t usrc, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++) {
		uint32_t va = usrc + i;

		if ((i == 0 || va % PAGE_SIZE == 0) && uaccess_check(va, 1, UACCESS_READ) < 0)
			return -GUEST_EFAULT;
		dst[i] = *(const char *)va;
		if (!dst[i])
			return (int)i;
	}
	return -GUEST_ENAMETOOLONG;
}
