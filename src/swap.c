/*
 * swap.c - the VMM's own swapping (see swap.h).
 *
 * The victim policy is the clock, or second chance, that operating
 * systems use for their own page replacement - except that the accessed
 * bits it reads are in the shadow page tables, which only the VMM sees.
 * The hand sweeps machine frames in order.  A frame is passed by if it is
 * not a guest page at all (the monitor, shadow pages), if the trap being
 * handled is using it (pinned: the VMM holds a pointer into it), or if a
 * shadow page is built from it (a guest page table: the shadow depends
 * on its contents being at hand, as an OS keeps its own page tables
 * resident).  Otherwise, if the page was used since the hand last came
 * by - an accessed bit in any shadow entry mapping it, or a VMM access -
 * the bits are cleared and it gets a second chance; if not, it is the
 * victim.  Two full turns without a victim mean every frame is pinned or
 * busy, and the pool really is exhausted.
 *
 * The swap file holds a slot per guest page (slot = the guest's base +
 * PFN), so nothing needs allocating on the way out, and a page that is
 * swapped out again goes to the same place.  The file is sparse: only
 * pages actually written take disk space.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "swap.h"
#include "vm.h"

static struct vm *swap_vm_of(const struct swap *sw, const struct p2m *owner)
{
	for (unsigned i = 0; i < sw->nvms; i++)
		if (&sw->vm[i]->p2m == owner)
			return sw->vm[i];
	return NULL;
}

static off_t swap_offset(const struct p2m *p2m, uint32_t pfn)
{
	return (off_t)((p2m->swap_base + pfn) * PAGE_SIZE);
}

/* The temporary swap file: made when first needed, unlinked at once, so
 * that it goes away however kvmshadow ends. */
static int swap_open_temp(struct swap *sw)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];

	if (!dir || !*dir)
		dir = "/tmp";
	/* mkstemp's template: it replaces the X's with a unique name. */
	snprintf(path, sizeof(path), "%s/kvmshadow-swap-XXXXXX", dir);
	sw->fd = mkstemp(path);
	if (sw->fd < 0) {
		snprintf(sw->error, sizeof(sw->error), "cannot create a swap file in %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	unlink(path);
	return 0;
}

static int swap_write(struct swap *sw, const struct p2m *p2m, uint32_t pfn, const uint8_t *page)
{
	ssize_t n;

	if (sw->fd < 0 && swap_open_temp(sw))
		return -1;
	n = pwrite(sw->fd, page, PAGE_SIZE, swap_offset(p2m, pfn));
	if (n == PAGE_SIZE)
		return 0;
	snprintf(sw->error, sizeof(sw->error), "cannot write the swap file: %s",
		 n < 0 ? strerror(errno) : "short write (disk full?)");
	return -1;
}

/* Take pfn's frame away from vm: out of every shadow, into the file. */
static int swap_out(struct swap *sw, struct vm *vm, uint32_t pfn, uint32_t mfn)
{
	const uint8_t *page = p2m_pool_frame_mem(sw->pool, mfn);
	bool zero = p2m_page_is_zero(page);

	if (!zero && swap_write(sw, &vm->p2m, pfn, page)) {
		vm->swap_error = sw->error;
		return -1;
	}
	shadow_drop_frame(vm, pfn);
	p2m_evict(&vm->p2m, pfn, !zero);
	if (trace_on(vm->trace, TRACE_SWAP))
		trace_line(vm->trace, "swap out: pa 0x%08x (machine frame 0x%x) %s",
			   pfn << PAGE_SHIFT, mfn,
			   zero ? "is all zero: dropped, not written" : "written to the swap file");
	return 0;
}

/* One step of the hand: is the frame under it the victim? */
static bool swap_is_victim(struct swap *sw, uint32_t mfn, struct vm **vm)
{
	struct p2m_frame *f = &sw->pool->frame[mfn];

	if (!f->used || !f->owner || f->pinned == sw->pool->epoch)
		return false;
	*vm = swap_vm_of(sw, f->owner);
	if (!*vm || shadow_frame_busy(*vm, f->pfn))
		return false;
	/* Both tests run: each clears its bit. */
	if (shadow_test_and_clear_accessed(*vm, f->pfn) | f->referenced) {
		f->referenced = false;
		return false;
	}
	return true;
}

static int swap_evict(void *ctx)
{
	struct swap *sw = ctx;
	uint32_t nframes = sw->pool->nframes;
	struct vm *vm;

	for (uint64_t step = 0; step < 2ull * nframes; step++) {
		uint32_t mfn = sw->hand;

		sw->hand = sw->hand + 1 >= nframes ? 1 : sw->hand + 1;
		if (mfn && swap_is_victim(sw, mfn, &vm))
			return swap_out(sw, vm, sw->pool->frame[mfn].pfn, mfn);
	}
	return -1;
}

static int swap_read(void *ctx, const struct p2m *owner, uint32_t pfn, uint8_t *mem)
{
	struct swap *sw = ctx;
	struct vm *vm = swap_vm_of(sw, owner);
	ssize_t n = sw->fd < 0 ? -1 : pread(sw->fd, mem, PAGE_SIZE, swap_offset(owner, pfn));

	if (n != PAGE_SIZE) {
		snprintf(sw->error, sizeof(sw->error), "cannot read the swap file: %s",
			 n < 0 ? strerror(errno) : "short read");
		if (vm)
			vm->swap_error = sw->error;
		return -1;
	}
	if (vm && trace_on(vm->trace, TRACE_SWAP))
		trace_line(vm->trace, "swap in: pa 0x%08x read back from the swap file",
			   pfn << PAGE_SHIFT);
	return 0;
}

/* --swap FILE: ours only if nobody's data is in it. */
static int swap_open_path(struct swap *sw, struct error *err)
{
	struct stat st;

	sw->fd = open(sw->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (sw->fd < 0)
		return error_errno(err, "--swap %s: cannot open it", sw->path);
	if (fstat(sw->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size) {
		close(sw->fd);
		sw->fd = -1;
		return error_set(err,
				 "--swap %s: %s; kvmshadow only swaps to a new or empty file, so "
				 "as never to overwrite data",
				 sw->path,
				 S_ISREG(st.st_mode) ? "exists and is not empty"
						     : "is not a regular file");
	}
	return 0;
}

int swap_init(struct swap *sw, struct p2m_pool *pool, const char *path, struct error *err)
{
	*sw = (struct swap){.pool = pool, .path = path, .fd = -1, .hand = 1};
	sw->pager = (struct p2m_pager){.evict = swap_evict, .read = swap_read, .ctx = sw};
	if (path && swap_open_path(sw, err))
		return -1;
	pool->pager = &sw->pager;
	return 0;
}

void swap_fini(struct swap *sw)
{
	if (sw->pool)
		sw->pool->pager = NULL;
	if (sw->fd >= 0) {
		if (sw->path && ftruncate(sw->fd, 0) < 0)
			fprintf(stderr, "kvmshadow: warning: cannot empty the swap file %s: %s\n",
				sw->path, strerror(errno));
		close(sw->fd);
	}
	sw->fd = -1;
}

int swap_add_vm(struct swap *sw, struct vm *vm, struct error *err)
{
	if (sw->nvms == SWAP_MAX_VMS)
		return error_set(err, "internal error: more than %d guests to swap", SWAP_MAX_VMS);
	sw->vm[sw->nvms++] = vm;
	vm->p2m.swap_base = sw->slots;
	sw->slots += vm->p2m.nr_pfns;
	return 0;
}

/* Its pages in the file are nobody's now: give the blocks back. */
void swap_release_vm(struct swap *sw, struct vm *vm)
{
	if (sw->fd >= 0)
		fallocate(sw->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  swap_offset(&vm->p2m, 0), (off_t)vm->p2m.nr_pfns * PAGE_SIZE);
	for (unsigned i = 0; i < sw->nvms; i++)
		if (sw->vm[i] == vm)
			sw->vm[i] = sw->vm[--sw->nvms];
}
