"""Seals a fresh random master key (KEK) under a root key read from stdin
(base64), in Amanah's sealed-KEK format, written from the envelope module's
documentation alone. Prints the sealed key as base64.

usage: seal_kek.py VERSION < root.key
"""
import base64
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def lp(b: bytes) -> bytes:
    return struct.pack(">Q", len(b)) + b


root = base64.b64decode(sys.stdin.read().strip())
version, created = int(sys.argv[1]), 1_800_000_000
kek = os.urandom(32)
header = b"\x01" + struct.pack(">IQ", version, created)
aad = lp(b"amanah.envelope.v1.kek") + header
nonce = os.urandom(12)
sealed = header + nonce + AESGCM(root).encrypt(nonce, kek, aad)
print(base64.b64encode(sealed).decode())
