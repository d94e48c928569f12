/*
 * ulib.h - the user library: what a guest user program can call.
 *
 * System-call wrappers (one int $0x80 each; numbers and error codes in
 * include/guest_abi.h, and the test-only ktest in guest/lib/ktest_abi.h),
 * printf to the console, and the string functions of guest/lib/str.h.  Calls return negative GUEST_E* numbers on error,
 * except sbrk, which returns (void *)-1.
 *
 * A program defines int main(const char *arg); its return value becomes
 * its exit status (crt0.c).
 */
#ifndef GUEST_ULIB_H
#define GUEST_ULIB_H

#include <stddef.h>
#include <stdint.h>

#include "guest_abi.h"
#include "ktest_abi.h"
#include "str.h"

int main(const char *arg);

int syscall(int n, uint32_t a, uint32_t b, uint32_t c);
void exit(int status) __attribute__((noreturn));
int fork(void);
int write(int fd, const void *buf, int len);
int getpid(void);
int yield(void);
int wait(int *status);
void *sbrk(int increment);
unsigned ticks(void);
int sleep(unsigned nticks);
int exec(const char *name, const char *arg);
int ktest(int test, uint32_t a, uint32_t b);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run attempt() in a child that must be killed; print the verdict as
 * "PROG: WHAT: killed as expected" or a FAIL line; returns 1 on failure. */
int expect_killed(const char *prog, const char *what, void (*attempt)(void));

/* One of the kernel's self-checks (ktest) and what it checks. */
struct ktest_case {
	int test;
	const char *what;
};

/* Run each check, print "PROG: WHAT: PASS" or "... FAIL (step N)"; returns
 * how many failed. */
int ktest_checks(const char *prog, const struct ktest_case *cases, size_t n);

#endif
