#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Regenerate the seed corpora in fuzz/corpus/<target>/ (valid requests the
fuzzers mutate from). Layout matches fuzz_guest.h: input byte 0 is a mode
byte, the rest is guest RAM; queue q at 0x400*q (desc, +0x100 avail, +0x200 used)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
RAM = 64 * 1024
F_NEXT, F_WRITE, F_INDIRECT = 1, 2, 4


def ram():
    return bytearray(RAM)


def desc(m, table, i, addr, length, flags, nxt):
    struct.pack_into("<QIHH", m, table + 16 * i, addr, length, flags, nxt)


def publish(m, q, heads):
    base = 0x400 * q + 0x100
    struct.pack_into("<HH", m, base, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", m, base + 4 + 2 * i, h)


def trim(m):
    end = len(m)
    while end > 0 and m[end - 1] == 0:
        end -= 1
    return bytes(m[:end])


def write(target, name, mode, m):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([mode]) + trim(m))


def blk():
    # read sector 1 into one buffer
    m = ram()
    struct.pack_into("<IIQ", m, 0x1000, 0, 0, 1)
    desc(m, 0, 0, 0x1000, 16, F_NEXT, 1)
    desc(m, 0, 1, 0x2000, 512, F_NEXT | F_WRITE, 2)
    desc(m, 0, 2, 0x3000, 1, F_WRITE, 0)
    publish(m, 0, [0])
    write("fuzz_blk", "read", 1, m)
    # write sector 2, rw disk; flush; get-id
    m = ram()
    struct.pack_into("<IIQ", m, 0x1000, 1, 0, 2)
    desc(m, 0, 0, 0x1000, 16, F_NEXT, 1)
    desc(m, 0, 1, 0x2000, 512, F_NEXT, 2)
    desc(m, 0, 2, 0x3000, 1, F_WRITE, 0)
    struct.pack_into("<IIQ", m, 0x1100, 4, 0, 0)
    desc(m, 0, 3, 0x1100, 16, F_NEXT, 4)
    desc(m, 0, 4, 0x3010, 1, F_WRITE, 0)
    struct.pack_into("<IIQ", m, 0x1200, 8, 0, 0)
    desc(m, 0, 5, 0x1200, 16, F_NEXT, 6)
    desc(m, 0, 6, 0x3020, 21, F_WRITE, 0)
    publish(m, 0, [0, 3, 5])
    write("fuzz_blk", "write-flush-id", 0, m)
    # indirect read
    m = ram()
    struct.pack_into("<IIQ", m, 0x1000, 0, 0, 3)
    desc(m, 0x4000, 0, 0x0, 0, 0, 0)
    desc(m, 0x4000, 0, 0x1000, 16, F_NEXT, 1)
    desc(m, 0x4000, 1, 0x2000, 1024, F_NEXT | F_WRITE, 2)
    desc(m, 0x4000, 2, 0x3000, 1, F_WRITE, 0)
    desc(m, 0, 0, 0x4000, 48, F_INDIRECT, 0)
    publish(m, 0, [0])
    write("fuzz_blk", "indirect", 3, m)


def vsock():
    m = ram()
    # tx (queue 1): a REQUEST from cid 2048; rx (queue 0): one buffer
    hdr = struct.pack("<QQIIIHHIII", 2048, 2, 5000, 1234, 0, 1, 1, 0, 4096, 0)
    m[0x2000:0x2000 + len(hdr)] = hdr
    desc(m, 0x400, 0, 0x2000, len(hdr), 0, 0)
    publish(m, 1, [0])
    desc(m, 0, 0, 0x3000, 4096, F_WRITE, 0)
    publish(m, 0, [0])
    write("fuzz_vsock", "request", 0, m)
    # RW with payload
    m = ram()
    hdr = struct.pack("<QQIIIHHIII", 2048, 2, 5000, 1234, 5, 1, 5, 0, 4096, 0)
    m[0x2000:0x2000 + len(hdr)] = hdr
    m[0x2100:0x2105] = b"hello"
    desc(m, 0x400, 0, 0x2000, len(hdr), F_NEXT, 1)
    desc(m, 0x400, 1, 0x2100, 5, 0, 0)
    publish(m, 1, [0])
    write("fuzz_vsock", "rw", 0, m)
    # host-initiated connection (mode bit 2): the guest answers RESPONSE and
    # sends data to host port 0x40000000
    m = ram()
    resp = struct.pack("<QQIIIHHIII", 2048, 2, 5000, 0x40000000, 0, 1, 2, 0, 4096, 0)
    rw = struct.pack("<QQIIIHHIII", 2048, 2, 5000, 0x40000000, 4, 1, 5, 0, 4096, 0)
    m[0x2000:0x2000 + len(resp)] = resp
    m[0x2100:0x2100 + len(rw)] = rw
    m[0x2100 + len(rw):0x2100 + len(rw) + 4] = b"data"
    desc(m, 0x400, 0, 0x2000, len(resp), 0, 0)
    desc(m, 0x400, 1, 0x2100, len(rw) + 4, 0, 0)
    publish(m, 1, [0, 1])
    for i in range(4):
        desc(m, 0, i, 0x3000 + 0x1000 * i, 0x1000, F_WRITE, 0)
    publish(m, 0, [0, 1, 2, 3])
    write("fuzz_vsock", "host-connection", 2, m)


def virtq():
    m = bytearray(0x6000)
    desc(m, 0, 0, 0x8000, 16, F_NEXT, 1)
    desc(m, 0, 1, 0x8100, 64, F_WRITE, 0)
    desc(m, 0, 2, 0x9000, 32, F_INDIRECT, 0)
    desc(m, 0x5800, 0, 0x8000, 8, F_NEXT, 1)
    desc(m, 0x5800, 1, 0x8200, 8, F_WRITE, 0)
    struct.pack_into("<HHHH", m, 0x4000, 0, 2, 0, 2)
    write("fuzz_virtq", "two-chains", 0x84, m)


def control():
    d = os.path.join(HERE, "corpus", "fuzz_control")
    os.makedirs(d, exist_ok=True)
    seeds = {
        "hello": b"STARTED\nREADY\nFINISHED 0\nSHUTDOWN\n",
        "crash": b"STARTED\nERROR 0 payload killed by signal 11\nFAIL 15\n",
        "partial": b"FINISHED -7\nERR",
    }
    for k, v in seeds.items():
        with open(os.path.join(d, k), "wb") as f:
            f.write(v)


blk()
vsock()
virtq()
control()
