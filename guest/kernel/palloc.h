/* palloc.h - the physical page allocator. */
#ifndef GUEST_PALLOC_H
#define GUEST_PALLOC_H

#include <stdbool.h>
#include <stdint.h>

void palloc_init(uint32_t start_pa, uint32_t end_pa, uint32_t hole_pa, uint32_t hole_len);
bool palloc_owns(uint32_t pa);
void *palloc_alloc(void);
void *palloc_zalloc(void);
void palloc_free(void *page);
uint32_t palloc_free_pages(void);

#endif
