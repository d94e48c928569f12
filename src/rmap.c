/*
 * rmap.c - the reverse map from guest frames to shadow entries (rmap.h).
 */
#include <stdlib.h>

#include "rmap.h"

int rmap_init(struct rmap *r, uint32_t nframes)
{
	*r = (struct rmap){.nframes = nframes};
	r->frame = calloc(nframes ? nframes : 1, sizeof(*r->frame));
	return r->frame ? 0 : -1;
}

void rmap_destroy(struct rmap *r)
{
	if (r->frame)
		for (uint32_t i = 0; i < r->nframes; i++)
			free(r->frame[i].ref);
	free(r->frame);
	*r = (struct rmap){0};
}

int rmap_add(struct rmap *r, uint32_t gfn, uint32_t ref)
{
	struct rmap_set *s;

	if (gfn >= r->nframes)
		return -1;
	s = &r->frame[gfn];
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 2;
		uint32_t *grown = realloc(s->ref, cap * sizeof(*grown));

		if (!grown)
			return -1;
		s->ref = grown;
		s->cap = cap;
	}
	s->ref[s->n++] = ref;
	r->entries++;
	return 0;
}

void rmap_remove(struct rmap *r, uint32_t gfn, uint32_t ref)
{
	struct rmap_set *s;

	if (gfn >= r->nframes)
		return;
	s = &r->frame[gfn];
	for (uint32_t i = 0; i < s->n; i++)
		if (s->ref[i] == ref) {
			s->ref[i] = s->ref[--s->n];
			r->entries--;
			return;
		}
}

const struct rmap_set *rmap_of(const struct rmap *r, uint32_t gfn)
{
	return gfn < r->nframes ? &r->frame[gfn] : NULL;
}
