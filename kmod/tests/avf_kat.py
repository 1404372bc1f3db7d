#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Known answers of avf_kunit.c's identity suite, computed independently of
the module: SHA-256/HMAC from hashlib/hmac, HKDF (RFC 5869) written out
here, AES-256-GCM from pyca/cryptography. Run it and paste the hex values
into kmod/tests/avf_kunit.c when the derivation or the state layout change.
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def hkdf(salt, ikm, info, n):
    salt = salt or bytes(32)
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:n]


def sha(*parts):
    return hashlib.sha256(b"".join(parts)).digest()


def text_hash(tag, text):
    return sha(tag + b"\0", text)


# fixed_state() of avf_kunit.c
UDS = bytes(range(32))
SALT, KERNEL, INITRD, PACKAGE = (bytes([b]) * 32 for b in (0x11, 0x22, 0x33, 0x44))
NAME = text_hash(b"avf-payload-name", b"payload.so")
CMDLINE = text_hash(b"avf-cmdline", b"quiet")
OWNER = 1000


def derive(debug, protected=0):
    os_ = sha(b"avf-layer-os", KERNEL, INITRD, struct.pack("<II", debug, protected), CMDLINE)
    cdi1 = hkdf(os_, UDS, b"CDI_Seal", 32)
    pl = sha(b"avf-layer-payload", PACKAGE, NAME, SALT)
    cdi2 = hkdf(pl, cdi1, b"CDI_Seal", 32)
    return hkdf(b"avf-vm-secret", cdi2, b"", 32)


def blob(debug=1):
    nonce = bytes(0xA0 + i for i in range(12))
    hdr = b"AVFI" + struct.pack("<I", 2) + nonce
    text = (SALT + KERNEL + INITRD + PACKAGE + struct.pack("<III", debug, 0, OWNER)
            + bytes(4) + NAME + CMDLINE)
    text += bytes(220 - len(text))
    key = hkdf(b"avf instance seal v1", UDS, b"vm-instance", 32)
    return hdr + AESGCM(key).encrypt(nonce, text, hdr)


print("text_hash(avf-cmdline, '')", text_hash(b"avf-cmdline", b"").hex())
print("name hash", NAME.hex())
print("derive debug=1", derive(1).hex())
print("derive debug=0", derive(0).hex())
b = blob()
assert len(b) == 256
print("sha256(blob)", hashlib.sha256(b).hexdigest())
