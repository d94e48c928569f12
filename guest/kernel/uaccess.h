/* uaccess.h - using pointers that come from user programs. */
#ifndef GUEST_UACCESS_H
#define GUEST_UACCESS_H

#include <stdint.h>

#define UACCESS_READ	0
#define UACCESS_WRITE	1

int uaccess_check(uint32_t uva, uint32_t len, int write);
int uaccess_copy_in(void *dst, uint32_t usrc, uint32_t len);
int uaccess_copy_out(uint32_t udst, const void *src, uint32_t len);
int uaccess_copy_string(char *dst, uint32_t usrc, uint32_t size);

#endif
