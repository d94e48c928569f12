/* printk.h - the kernel's printf, and panic. */
#ifndef GUEST_PRINTK_H
#define GUEST_PRINTK_H

void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
