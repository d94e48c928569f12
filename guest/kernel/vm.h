/* vm.h - page directories and page tables. */
#ifndef GUEST_VM_H
#define GUEST_VM_H

#include <stddef.h>
#include <stdint.h>

#include "x86.h"

#define PTE_USER_RW	(PTE_P | PTE_W | PTE_U)

extern uint32_t *vm_kernel_pgdir;

void vm_init(uint32_t mem_end);
uint32_t vm_direct_map_end(uint32_t mem_end);
uint32_t *vm_create(void);
void vm_free(uint32_t *pgdir);
void vm_switch(uint32_t *pgdir);
uint32_t *vm_walk(uint32_t *pgdir, uint32_t va, int create);
int vm_map_zeroed(uint32_t *pgdir, uint32_t va, uint32_t flags);
int vm_populate(uint32_t *pgdir, uint32_t start, uint32_t end, uint32_t flags);
void vm_unmap(uint32_t *pgdir, uint32_t start, uint32_t end);
int vm_copy(uint32_t *dst, const uint32_t *src);
void vm_copy_out(uint32_t *pgdir, uint32_t va, const void *src, size_t len);

#endif
