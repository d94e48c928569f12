#!/usr/bin/env python3
"""tests/fuzz/mkseeds.py - write the hand-made seeds of tests/fuzz/corpus/.

Each seed is one small input that reaches a path of its harness which
random bytes would take long to find: a guest with a sane GDT, IDT and TSS
taking a trap of each kind (fuzz_descriptors), a few emulated
instructions (fuzz_emulate), a few page tables (fuzz_ptwalk).  The input
layouts are those the harnesses' comments describe.  The loader's seeds
are copied from the build (tests/fuzz/run.sh) and from the corpus.

Run from the top of the tree: python3 tests/fuzz/mkseeds.py
"""
import os
import struct

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(harness, name, data):
    d = os.path.join(CORPUS, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def desc(base, limit, access, flags):
    """A segment descriptor as the CPU reads it (flags: G=0x8, D=0x4)."""
    return (limit & 0xffff) | (base & 0xffffff) << 16 | access << 40 | \
        ((limit >> 16) & 0xf) << 48 | flags << 52 | (base >> 24) << 56


def gate(offset, sel, type_attr):
    return struct.pack("<HHBBH", offset & 0xffff, sel, 0, type_attr, offset >> 16)


# --- fuzz_descriptors ---------------------------------------------------------
# Guest memory (paging off, or one 4 MiB page at 0 through a directory at 0):
#   0x08 an lgdt operand, 0x10 the instruction at eip, 0x1c the handlers,
#   0x20 the GDT (8 entries), 0x60 the IDT (vectors 0-0x30), 0x1e8 the TSS
#   (esp0, ss0), 0x200 an iret frame, 0x230 the user stack, 0x240 the
#   kernel stack's top.
EIP, HANDLER, GDT, IDT, TSS, IRET_FRAME, USER_ESP, KERNEL_ESP = \
    0x10, 0x1c, 0x20, 0x60, 0x1e8, 0x200, 0x230, 0x240
NIDT = 0x31
KCS, KDS, UCS, UDS, TSS_SEL = 0x08, 0x10, 0x18, 0x20, 0x28
PAGING, TSS_LOADED, VIF, IRQ, MIRROR2 = 1, 2, 4, 8, 0x10


def guest_memory(code, paging=False, stack=b""):
    mem = bytearray(KERNEL_ESP)
    if paging:
        mem[0:4] = struct.pack("<I", 0x83)  # pde 0: 4 MiB at 0, present, writable
    mem[0x08:0x0e] = struct.pack("<HI", 8 * 8 - 1, GDT)
    mem[EIP:EIP + len(code)] = code
    mem[HANDLER] = 0xcf
    gdt = [0,
           desc(0, 0xfffff, 0x9a, 0xc),  # kernel code, DPL 0
           desc(0, 0xfffff, 0x92, 0xc),  # kernel data
           desc(0, 0xfffff, 0xfa, 0xc),  # user code, DPL 3
           desc(0, 0xfffff, 0xf2, 0xc),  # user data
           desc(TSS, 0x67, 0x89, 0),     # an available 32-bit TSS
           desc(0xffbff800, 0xfffff, 0x92, 0xc),  # reaches the monitor: cut
           desc(0, 0xfffff, 0x9e, 0xc)]  # conforming code: refused
    for i, d in enumerate(gdt):
        mem[GDT + 8 * i:GDT + 8 * i + 8] = struct.pack("<Q", d)
    for v in range(NIDT):
        mem[IDT + 8 * v:IDT + 8 * v + 8] = gate(HANDLER, KCS, 0xee if v == 0x30 else 0x8e)
    mem[TSS + 4:TSS + 12] = struct.pack("<II", KERNEL_ESP, KDS)
    mem[IRET_FRAME:IRET_FRAME + len(stack)] = stack
    return bytes(mem)


def trap(vector, error=0, eip=EIP, user=False, flags=VIF, regs=(0, 0, 0, 0),
         code=b"", esp=None, stack=b"", cr3=0, cr4=0, vector_base=0x20):
    cs, ss = (UCS | 3, UDS | 3) if user else (KCS | 1, KDS | 1)
    if esp is None:
        esp = USER_ESP if user else KERNEL_ESP
    paging = bool(flags & PAGING)
    header = struct.pack("<22I", flags | vector_base << 8, GDT, 8 * 8 - 1, IDT,
                         NIDT * 8 - 1, cr3, cr4 | (0x10 if paging else 0), TSS,
                         vector, error, 0, eip, cs, 0x202, esp, ss, ss, ss, *regs)
    return header + guest_memory(code, paging, stack)


def descriptor_seeds():
    user = VIF | TSS_LOADED
    write("descriptors", "ud-kernel", trap(6))
    write("descriptors", "ud-user", trap(6, user=True, flags=user))
    write("descriptors", "int30-user", trap(13, 0x30 * 8 + 2, user=True, flags=user,
                                            code=b"\xcd\x30"))
    write("descriptors", "iret-to-user",
          trap(13, code=b"\xcf", esp=IRET_FRAME,
               stack=struct.pack("<5I", EIP, UCS | 3, 0x202, USER_ESP, UDS | 3)))
    write("descriptors", "ltr", trap(13, code=b"\x0f\x00\xd8", regs=(TSS_SEL, 0, 0, 0)))
    write("descriptors", "lgdt", trap(13, code=b"\x0f\x01\x15\x08\x00\x00\x00"))
    write("descriptors", "movss", trap(13, code=b"\x8e\xd0", regs=(0x30, 0, 0, 0)))
    write("descriptors", "irq-user", trap(0xf0, user=True, flags=user | IRQ))
    write("descriptors", "pf-paging", trap(14, 2, flags=VIF | PAGING))


# --- fuzz_emulate ---------------------------------------------------------------
# One byte (1: emulate_store), 15 instruction bytes, the registers eax ecx
# edx ebx esp ebp esi edi eip eflags, cr0 cr2 cr3 cr4, then memory at 0x10000.
def emulate(insn, store=False, regs=None, mem=b""):
    r = regs or (0x10000, 0, 0x3f8, 0x10010, 0x10100, 0, 0x10020, 0x10030, 0x1000, 0x202)
    return bytes([1 if store else 0]) + insn.ljust(15, b"\x90") + \
        struct.pack("<10I", *r) + struct.pack("<4I", 0x80000011, 0, 0x2000, 0x10) + mem


def emulate_seeds():
    mem = struct.pack("<HI", 0x3f, 0x1000).ljust(0x200, b"\0")
    write("emulate", "lgdt", emulate(b"\x0f\x01\x10", mem=mem))  # lgdt [eax]
    write("emulate", "movcr3", emulate(b"\x0f\x22\xd8"))  # mov cr3, eax
    write("emulate", "iret", emulate(b"\xcf", mem=mem))
    write("emulate", "outsb", emulate(b"\xf3\x6e", mem=mem))  # rep outsb
    write("emulate", "store-mov", emulate(b"\x89\x03", store=True, mem=mem))  # mov [ebx], eax


# --- fuzz_ptwalk ------------------------------------------------------------------
# cr0, cr3, cr4, va, access, then guest-physical memory from 0.
def ptwalk_seeds():
    pg = 0x80010001
    # a directory at 0 whose entry 0 is itself as a page table: va 0 maps page 0
    write("ptwalk", "selfmap", struct.pack("<5I", pg, 0, 0, 0x40, 6) + struct.pack("<I", 0x7))
    # a 4 MiB page
    write("ptwalk", "pse", struct.pack("<5I", pg, 0, 0x10, 0x00012345, 2) +
          struct.pack("<I", 0x87))
    # a page table that is not present, and a user write to a read-only page
    write("ptwalk", "notpresent", struct.pack("<5I", pg, 0, 0, 0x00400000, 0) +
          struct.pack("<I", 0x7))
    write("ptwalk", "readonly", struct.pack("<5I", pg, 0, 0, 0x10, 6) + struct.pack("<I", 0x5))

if __name__ == "__main__":
    descriptor_seeds()
    emulate_seeds()
    ptwalk_seeds()
