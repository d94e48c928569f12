/*
 * str.h - the handful of string and memory functions that both the guest
 * kernel and its user programs need.
 *
 * Neither side has a C library, and GCC may turn a structure copy or a
 * zeroing loop into a call to memcpy or memset even in freestanding code,
 * so these have to exist on both sides; one source file serves both.
 */
#ifndef GUEST_LIB_STR_H
#define GUEST_LIB_STR_H

#include <stddef.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
size_t strlcpy(char *dst, const char *src, size_t size);

#endif
