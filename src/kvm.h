/*
 * kvm.h - a thin wrapper around the /dev/kvm ioctls.
 */
#ifndef KVMSHADOW_KVM_H
#define KVMSHADOW_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct kvm {
	int sys_fd;	     /* /dev/kvm */
	int vm_fd;	     /* the virtual machine */
	int vcpu_fd;	     /* its one virtual CPU */
	struct kvm_run *run; /* shared with the kernel: why KVM_RUN returned */
	size_t run_size;
	bool umip; /* the vCPU has CR4.UMIP (CPUID 7.0:ECX bit 2) */
};

/* Open /dev/kvm, check the API and create an empty VM. */
int kvm_open(struct kvm *kvm, struct error *err);
/* Back guest-physical [gpa, gpa + size) with host memory. */
int kvm_add_memory(struct kvm *kvm, uint32_t slot, uint64_t gpa, void *host, uint64_t size,
		   struct error *err);
/* Create the vCPU, map its kvm_run and give it the host's CPUID - less
 * PAE, PSE-36 and NX for shadow mode, which does not shadow them. */
int kvm_create_vcpu(struct kvm *kvm, bool shadow, struct error *err);
void kvm_close(struct kvm *kvm);

/* A flat 4 GiB code or data segment (type 0xb or 0x3) as KVM_SET_SREGS
 * wants it: the descriptor cache's contents, DPL from the selector's RPL. */
struct kvm_segment kvm_flat_segment(uint16_t selector, uint8_t type);

#endif
