#!/usr/bin/env python3
"""pushf-image.py OUT - write a Multiboot ELF kernel whose code is 100,000
pushf bytes: more sites than kvmshadow patches (PATCH_MAX, src/patch.h).
tests/integration/shadow.sh checks that it is refused in one line."""
import struct
import sys

MAGIC, FLAGS = 0x1BADB002, 3
code = struct.pack('<III', MAGIC, FLAGS, (-(MAGIC + FLAGS)) & 0xffffffff) + b'\x9c' * 100000
ehdr = struct.pack('<16sHHIIIIIHHHHHH', b'\x7fELF\x01\x01\x01' + bytes(9), 2, 3, 1, 0x100000,
                   52, 0, 0, 52, 32, 1, 0, 0, 0)
phdr = struct.pack('<IIIIIIII', 1, 4096, 0x100000, 0x100000, len(code), len(code), 5, 4096)
head = ehdr + phdr
with open(sys.argv[1], 'wb') as f:
    f.write(head + bytes(4096 - len(head)) + code)
