/* main.h - the beginning and the end of the guest kernel. */
#ifndef GUEST_MAIN_H
#define GUEST_MAIN_H

#include <stdint.h>

void kmain(uint32_t magic, uint32_t info_pa) __attribute__((noreturn));
void main_shutdown(int init_status) __attribute__((noreturn));

#endif
