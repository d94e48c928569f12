/*
 * kvm.c - talk to KVM.
 *
 * KVM turns the kernel into a hypervisor that a user process drives with
 * ioctls on three kinds of file descriptor: /dev/kvm for the system, one
 * for each VM (its memory), one for each vCPU (its registers, and
 * KVM_RUN, which runs guest code until something needs us).  Everything
 * else in kvmshadow is policy on top of these few calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm.h"

/* Where KVM on Intel puts the real-mode TSS it needs; unused guest space. */
#define KVM_TSS_ADDR 0xfffbd000u

int kvm_open(struct kvm *kvm, struct error *err)
{
	int version;

	*kvm = (struct kvm){.sys_fd = -1, .vm_fd = -1, .vcpu_fd = -1};
	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0)
		return error_errno(err, "cannot open /dev/kvm (no KVM here? tools/kvm-sandbox runs "
					"kvmshadow in a VM that has it)");
	version = ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		return error_set(err, "/dev/kvm speaks API version %d, kvmshadow needs %d", version,
				 KVM_API_VERSION);
	/* vcpu.c relies on kvm_run->immediate_exit so that no timer signal
	 * is lost between our last check and KVM_RUN (Linux 4.11 and later). */
	if (ioctl(kvm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) <= 0)
		return error_set(err, "this KVM lacks KVM_CAP_IMMEDIATE_EXIT (Linux 4.11 or later "
				      "is needed)");
	kvm->vm_fd = ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		return error_errno(err, "KVM_CREATE_VM failed");
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		return error_errno(err, "KVM_SET_TSS_ADDR failed");
	return 0;
}

int kvm_add_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, void *host, uint64_t size,
		   struct error *err)
{
	struct kvm_userspace_memory_region region = {
	    .slot = slot,
	    .guest_phys_addr = gpa,
	    .memory_size = size,
	    .userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return error_errno(err, "KVM_SET_USER_MEMORY_REGION (%llu MiB at 0x%llx) failed",
				   (unsigned long long)(size >> 20), (unsigned long long)gpa);
	return 0;
}

/* UMIP makes sgdt, sidt, sldt, smsw and str fault outside ring 0: shadow
 * mode needs it to hide the monitor's tables from the guest kernel. */
static bool kvm_has_umip(const struct kvm_cpuid2 *cpuid)
{
	for (uint32_t i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == 7 && cpuid->entries[i].index == 0)
			return cpuid->entries[i].ecx & (1u << 2);
	return false;
}

/*
 * Shadow mode does not shadow PAE page tables, its 32-bit walker has no
 * PSE-36 or NX, and it does not emulate sysenter: a guest must not be
 * told the CPU has them.  (Leaf 1 EDX: SEP is bit 11, PAE bit 6, PSE-36
 * bit 17; leaf 0x80000001 EDX: NX is bit 20.)
 */
static void kvm_hide_for_shadow(struct kvm_cpuid2 *cpuid)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1)
			e->edx &= ~((1u << 6) | (1u << 11) | (1u << 17));
		else if (e->function == 0x80000001)
			e->edx &= ~(1u << 20);
	}
}

/*
 * Without KVM_SET_CPUID2 the guest sees no CPU features at all, and KVM
 * then refuses CR4 bits such as PSE and PGE that the guest's page tables
 * need.  We pass on everything KVM can virtualise.
 */
static int kvm_set_cpuid(struct kvm *kvm, bool shadow, struct error *err)
{
	int nent = 64;

	for (;;) {
		struct kvm_cpuid2 *cpuid;
		int ret;

		cpuid = calloc(1, sizeof(*cpuid) + (size_t)nent * sizeof(cpuid->entries[0]));
		if (!cpuid)
			return error_set(err, "out of memory for CPUID");
		cpuid->nent = (uint32_t)nent;
		ret = ioctl(kvm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid);
		if (ret < 0 && errno == E2BIG && nent < 4096) {
			free(cpuid);
			nent *= 2;
			continue;
		}
		if (ret == 0) {
			kvm->umip = kvm_has_umip(cpuid);
			if (shadow)
				kvm_hide_for_shadow(cpuid);
			ret = ioctl(kvm->vcpu_fd, KVM_SET_CPUID2, cpuid);
		}
		free(cpuid);
		if (ret < 0)
			return error_errno(err, "setting the vCPU's CPUID failed");
		return 0;
	}
}

int kvm_create_vcpu(struct kvm *kvm, bool shadow, struct error *err)
{
	int size;

	kvm->vcpu_fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, 0);
	if (kvm->vcpu_fd < 0)
		return error_errno(err, "KVM_CREATE_VCPU failed");
	size = ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (size < (int)sizeof(struct kvm_run))
		return error_errno(err, "KVM_GET_VCPU_MMAP_SIZE failed");
	kvm->run_size = (size_t)size;
	kvm->run = mmap(NULL, kvm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, kvm->vcpu_fd, 0);
	if (kvm->run == MAP_FAILED) {
		kvm->run = NULL;
		return error_errno(err, "mapping the vCPU's kvm_run failed");
	}
	return kvm_set_cpuid(kvm, shadow, err);
}

struct kvm_segment kvm_flat_segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = selector,
	    .type = type,
	    .present = 1,
	    .dpl = selector & 3, /* the RPL of a segment just loaded is the CPL */
	    .db = 1,
	    .s = 1,
	    .l = 0,
	    .g = 1,
	};
}

void kvm_close(struct kvm *kvm)
{
	if (kvm->run)
		munmap(kvm->run, kvm->run_size);
	if (kvm->vcpu_fd >= 0)
		close(kvm->vcpu_fd);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	*kvm = (struct kvm){.sys_fd = -1, .vm_fd = -1, .vcpu_fd = -1};
}
