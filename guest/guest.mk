# guest/guest.mk - builds the guest kernel, $(BUILD)/guest/guest.img.
#
# Included by the top-level Makefile, which sets BUILD; make runs at the
# repository root.  Everything here is prefixed GUEST_ so that it cannot
# collide with the VMM's build.
#
#   guest/kernel/   the kernel (boot.S is its entry point)
#   guest/lib/      formatting and string code, linked into both sides
#   guest/user/     user programs; ulib/ is their tiny C library
#
# Each user program is linked on its own at 0x08048000 (guest/user.ld);
# guest/kernel/programs.S then pulls the finished ELF files into the
# kernel image with .incbin, and the kernel's exec loads them from there.

GUEST_CC := gcc
GUEST_OUT := $(BUILD)/guest
GUEST_IMAGE := $(GUEST_OUT)/guest.img

# 32-bit, freestanding, and no x87/SSE registers anywhere: the kernel
# saves only the integer registers on a switch.
GUEST_ARCH := -m32 -march=i586 -mgeneral-regs-only
GUEST_CPPFLAGS := -Iinclude -Iguest/lib -Iguest/kernel -Iguest/user/ulib -MMD -MP
GUEST_CFLAGS := $(GUEST_ARCH) -std=gnu11 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-common \
	-fno-tree-loop-distribute-patterns -O2 -g -Wall -Wextra -Werror
GUEST_ASFLAGS := $(GUEST_ARCH) -Wa,--fatal-warnings
GUEST_LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none \
	-Wl,-z,noexecstack -Wl,-z,max-page-size=4096 -Wl,--fatal-warnings
GUEST_LIBGCC := $(shell $(GUEST_CC) -m32 -print-libgcc-file-name)

# The built-in programs; guest/kernel/programs.S lists the same names.
GUEST_PROGRAMS := init hello forkstress memtest faulter sysinfo \
	privtest inttest wptest bigpage kspy syscalls \
	ptshadow pingpong retouch forkchurn ptupdate bench

GUEST_LIB_SRCS := guest/lib/fmt.c guest/lib/str.c
GUEST_KERNEL_SRCS := $(sort $(wildcard guest/kernel/*.c guest/kernel/*.S)) $(GUEST_LIB_SRCS)
GUEST_ULIB_SRCS := $(sort $(wildcard guest/user/ulib/*.c)) $(GUEST_LIB_SRCS)

guest_obj = $(patsubst guest/%,$(GUEST_OUT)/obj/%.o,$(basename $(1)))

GUEST_KERNEL_OBJS := $(call guest_obj,$(GUEST_KERNEL_SRCS))
GUEST_ULIB_OBJS := $(call guest_obj,$(GUEST_ULIB_SRCS))
GUEST_USER_OBJS := $(call guest_obj,$(GUEST_PROGRAMS:%=guest/user/%.c))
GUEST_USER_ELFS := $(GUEST_PROGRAMS:%=$(GUEST_OUT)/user/%.elf)
GUEST_DEPS := $(patsubst %.o,%.d,$(GUEST_KERNEL_OBJS) $(GUEST_ULIB_OBJS) $(GUEST_USER_OBJS))

.PHONY: guest
guest: $(GUEST_IMAGE)

# Keep the user objects: they are made by pattern rules only, so make
# would otherwise delete them as intermediate files.
.SECONDARY: $(GUEST_USER_OBJS) $(GUEST_ULIB_OBJS)

$(GUEST_OUT)/obj/%.o: guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_OUT)/obj/%.o: guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CPPFLAGS) $(GUEST_ASFLAGS) -c $< -o $@

# The user programs are inside programs.o: .incbin finds them by name.
$(GUEST_OUT)/obj/kernel/programs.o: GUEST_ASFLAGS += -Wa,-I$(GUEST_OUT)/user
$(GUEST_OUT)/obj/kernel/programs.o: $(GUEST_USER_ELFS)

$(GUEST_OUT)/user/%.elf: $(GUEST_OUT)/obj/user/%.o $(GUEST_ULIB_OBJS) guest/user.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_LDFLAGS) -Wl,--strip-debug -T guest/user.ld -o $@ $< $(GUEST_ULIB_OBJS) $(GUEST_LIBGCC)

$(GUEST_IMAGE): $(GUEST_KERNEL_OBJS) guest/kernel.ld
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_LDFLAGS) -T guest/kernel.ld -o $@ $(GUEST_KERNEL_OBJS) $(GUEST_LIBGCC)

-include $(GUEST_DEPS)
