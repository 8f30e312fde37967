"""Prints TOTP codes from pyotp, an implementation independent of Amanah's.

Usage: totp.py OFFSET... with the base32 secret on stdin (never on the
command line, where other processes could read it). One code per offset
(seconds from now), all computed at the same instant, one per line.
"""
import sys
import time

import pyotp

secret = sys.stdin.read().strip()
now = time.time()
totp = pyotp.TOTP(secret)
for offset in sys.argv[1:]:
    print(totp.at(now + int(offset)))
