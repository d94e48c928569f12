/*
 * vm.c - one guest in shadow mode: building it, and reaching its memory
 * (see vm.h).
 */
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

#include "boot.h"
#include "multiboot.h"
#include "segments.h"
#include "vm.h"

void vm_stop(struct vm *vm, enum vcpu_stop_reason reason, const char *fmt, ...)
{
	struct monitor_frame *f = machine_frame(vm->m);
	va_list ap;

	if (vm->stopped)
		return;
	vm->stopped = true;
	vm->stop->reason = reason;
	vm->stop->eip = f->eip;
	vm->stop->eip_known = true;
	va_start(ap, fmt);
	vsnprintf(vm->stop->detail, sizeof(vm->stop->detail), fmt, ap);
	va_end(ap);
}

/* --- Guest-physical memory: the PFN-to-MFN map ----------------------------- */

/*
 * Every access the VMM makes to guest memory comes here, so here a frame
 * that is not resident is brought in: zeroed on first touch, or read back
 * from the swap file.  If no machine frame can be had at all (every one is
 * pinned by this trap, or the swap file failed), the guest cannot go on.
 */
uint8_t *vm_phys(struct vm *vm, uint32_t gpa)
{
	bool failed;
	uint32_t mfn = p2m_get(&vm->p2m, gpa >> PAGE_SHIFT, &failed);

	if (failed)
		vm_stop(vm, VCPU_STOP_VMM_ERROR,
			"no machine frame for guest-physical 0x%08x: machine memory is "
			"exhausted and nothing could be swapped out%s%s",
			gpa, vm->swap_error ? ": " : "", vm->swap_error ? vm->swap_error : "");
	if (!mfn)
		return NULL;
	return machine_frame_mem(vm->m, mfn) + (gpa & ~PAGE_MASK);
}

const uint8_t *vm_phys_resident(const struct vm *vm, uint32_t gpa)
{
	uint32_t mfn = p2m_lookup(&vm->p2m, gpa >> PAGE_SHIFT);

	if (!mfn)
		return NULL;
	return machine_frame_mem(vm->m, mfn) + (gpa & ~PAGE_MASK);
}

/* The page walker's view: aligned words, each within one page. */
static int vm_walk_read32(void *ctx, uint32_t gpa, uint32_t *value)
{
	uint8_t *p = (gpa & 3) ? NULL : vm_phys(ctx, gpa);

	if (!p)
		return -1;
	memcpy(value, p, 4);
	return 0;
}

static int vm_walk_write32(void *ctx, uint32_t gpa, uint32_t value)
{
	uint8_t *p = (gpa & 3) ? NULL : vm_phys(ctx, gpa);

	if (!p)
		return -1;
	memcpy(p, &value, 4);
	return 0;
}

/* --- Guest-virtual memory: the guest's page tables, then the map ---------- */

/* Translate one page for 'access'; a host pointer, or NULL and *fault. */
int vm_virt_to_phys(struct vm *vm, uint32_t va, unsigned access, uint32_t *gpa,
		    struct emulate_fault *fault)
{
	struct ptwalk_result w;

	ptwalk(&vm->walk_mem, vm->sys.cr0, vm->sys.cr3, vm->sys.cr4, va, access | PTWALK_SET_AD,
	       &w);
	if (w.status == PTWALK_FAULT) {
		*fault = (struct emulate_fault){
		    .vector = T_PF, .has_error = true, .error_code = w.error_code, .cr2 = va};
		return -1;
	}
	if (w.status != PTWALK_OK || !vm_phys(vm, w.gpa)) {
		*fault = (struct emulate_fault){.vector = 0xff, .cr2 = va};
		return -1;
	}
	*gpa = w.gpa;
	return 0;
}

/* Read [va, va+len) page by page. */
static int vm_read_pages(struct vm *vm, uint32_t va, uint8_t *buf, unsigned len, unsigned access,
			 struct emulate_fault *fault)
{
	while (len) {
		unsigned chunk = PAGE_SIZE - (va & ~PAGE_MASK);
		uint32_t gpa;

		if (vm_virt_to_phys(vm, va, access, &gpa, fault))
			return -1;
		if (chunk > len)
			chunk = len;
		memcpy(buf, vm_phys(vm, gpa), chunk);
		buf += chunk;
		va += chunk;
		len -= chunk;
	}
	return 0;
}

int vm_read_virt(struct vm *vm, uint32_t va, void *buf, unsigned len, unsigned access,
		 struct emulate_fault *fault)
{
	return vm_read_pages(vm, va, buf, len, access & ~PF_W, fault);
}

/*
 * All or nothing, and to the frames found before any byte moved: every
 * page is translated first, then written.  (Translating again page by
 * page could find another frame for the second page, if the first part
 * of the write rewrote the page table that maps it.)  Every write the VMM
 * makes to guest memory passes here, so here the shadow hears of it, and
 * here a write over an instruction we patched is refused.
 */
int vm_write_virt(struct vm *vm, uint32_t va, const void *buf, unsigned len, unsigned access,
		  struct emulate_fault *fault)
{
	const uint8_t *src = buf;
	uint32_t gpa[2], part[2];
	unsigned n = 0;

	if (len > PAGE_SIZE) { /* no caller writes more than a few words */
		*fault = (struct emulate_fault){.vector = 0xff, .cr2 = va};
		return -1;
	}
	for (uint32_t at = va, left = len; left; n++) {
		part[n] = PAGE_SIZE - (at & ~PAGE_MASK);
		if (part[n] > left)
			part[n] = left;
		if (vm_virt_to_phys(vm, at, access | PF_W, &gpa[n], fault))
			return -1;
		if (patch_overlaps(&vm->patch, gpa[n], part[n])) {
			vm_stop(
			    vm, VCPU_STOP_GUEST_ERROR,
			    "guest wrote to its kernel code at va 0x%08x (guest-physical 0x%08x), "
			    "which kvmshadow patched: self-modifying kernel code is not supported",
			    at, gpa[n]);
			*fault = (struct emulate_fault){.vector = 0xff, .cr2 = at};
			return -1;
		}
		at += part[n];
		left -= part[n];
	}
	for (unsigned i = 0; i < n; i++) {
		memcpy(vm_phys(vm, gpa[i]), src, part[i]);
		shadow_guest_wrote(vm, gpa[i], part[i]);
		src += part[i];
	}
	return 0;
}

/* --- The virtual interrupt flag -------------------------------------------- */

/*
 * The real EFLAGS always has IF set (so the VMM can interrupt the guest)
 * and IOPL 0 (so in, out, cli and sti trap).  The guest sees its own.
 */
uint32_t vm_guest_eflags(const struct vm *vm, uint32_t real)
{
	return (real & ~(FL_IF | FL_IOPL_MASK)) | (vm->vif ? FL_IF : 0) | vm->viopl;
}

uint32_t vm_set_eflags(struct vm *vm, uint32_t guest)
{
	vm->vif = guest & FL_IF;
	vm->viopl = guest & FL_IOPL_MASK;
	return (guest & ~(FL_IOPL_MASK | FL_VM | FL_NT)) | FL_IF | FL_FIXED;
}

/* --- Building the guest ----------------------------------------------------- */

/*
 * Move the image, built in flat memory, into the guest's machine frames.
 * Only the pages that hold something: the rest is zero, and gets a frame
 * when the guest first touches it.  Each page is its own epoch, so that
 * with little machine memory the image can push its own first pages out.
 */
static int vm_copy_in(struct vm *vm, const uint8_t *flat, uint64_t bytes, struct error *err)
{
	for (uint64_t gpa = 0; gpa < bytes; gpa += PAGE_SIZE) {
		uint8_t *page;

		if (p2m_page_is_zero(flat + gpa))
			continue;
		vm->m->pool.epoch++;
		page = vm_phys(vm, (uint32_t)gpa);
		if (!page)
			return error_set(err, "machine memory too small to load %s's image",
					 vm->name);
		memcpy(page, flat + gpa, PAGE_SIZE);
	}
	return 0;
}

static int vm_init_map(struct vm *vm, struct machine *m, uint64_t mem_bytes, struct error *err)
{
	vm->m = m;
	vm->walk_mem =
	    (struct ptwalk_mem){.ctx = vm, .read32 = vm_walk_read32, .write32 = vm_walk_write32};
	return p2m_init(&vm->p2m, &m->pool, mem_bytes, err);
}

int vm_init_memory(struct vm *vm, struct machine *m, uint64_t mem_bytes, struct error *err)
{
	return vm_init_map(vm, m, mem_bytes, err) || p2m_populate(&vm->p2m, err) ? -1 : 0;
}

int vm_init(struct vm *vm, struct machine *m, struct guest *g, const struct loader_image *img,
	    struct error *err)
{
	vm->name = g->name;
	vm->g = g;
	if (patch_scan(&vm->patch, g->mem, g->mem_bytes, img, err))
		return -1;
	if (vm_init_map(vm, m, g->mem_bytes, err))
		return -1;
	if (emulate_init(&vm->em, err))
		return -1;
	if (vm_copy_in(vm, g->mem, g->mem_bytes, err))
		return -1;
	/* From here on the guest's memory lives only in machine frames. */
	munmap(g->mem, g->mem_bytes);
	g->mem = NULL;
	/* Multiboot's promise: protected mode, paging off, the boot GDT. */
	vm->sys.cr0 = CR0_PE | CR0_ET;
	vm->real_cr0 = MONITOR_CR0;
	vm->real_cr4 = m->kvm.umip ? CR4_UMIP : 0;
	vm->sys.gdtr.base = BOOT_GDT_PA;
	vm->sys.gdtr.limit = 3 * 8 - 1;
	if (shadow_init(vm))
		return error_set(err, "machine memory too small for the shadow page tables");
	if (segments_mirror(vm))
		return error_set(err, "%s", vm->stop->detail);
	return 0;
}

void vm_release(struct vm *vm)
{
	shadow_destroy(vm);
	p2m_release(&vm->p2m);
}

void vm_destroy(struct vm *vm)
{
	emulate_fini(&vm->em);
	shadow_destroy(vm);
	p2m_destroy(&vm->p2m);
	patch_free(&vm->patch);
}

int vm_enter(struct vm *vm, uint32_t entry, struct error *err)
{
	struct machine_entry e = {
	    .cr3 = shadow_cr3(&vm->shadow),
	    .eip = entry,
	    .esp = BOOT_STACK_TOP,
	    .eflags = vm_set_eflags(vm, FL_FIXED), /* the guest starts with IF clear */
	    .eax = MULTIBOOT_BOOTLOADER_MAGIC,
	    .ebx = BOOT_INFO_PA,
	    .cs = segments_to_real(BOOT_CS),
	    .ds = segments_to_real(BOOT_DS),
	};

	return machine_enter(vm->m, &e, err);
}
