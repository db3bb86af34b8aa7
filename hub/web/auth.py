"""Passwords as scrypt hashes, and a throttle on failed sign-ins (accounts.py keeps the accounts and sessions)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque

log = logging.getLogger(__name__)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1   # 16 MiB and a fraction of a second on a Pi 4


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(plain: str) -> str:
    """An account's password hash: scrypt with a random salt, its parameters stored with it."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(plain.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(plain: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(plain.encode(), salt=base64.b64decode(salt, validate=True), n=int(n), r=int(r),
                                p=int(p), dklen=len(expected), maxmem=64 * 1024 * 1024)
    except (ValueError, binascii.Error):
        log.error("an account's password hash cannot be used; give it a new one with turnero web-user passwd")
        return False
    return hmac.compare_digest(actual, expected)


class Throttle:
    """At most `limit` failed sign-ins for one user name from one address in `window` seconds, and `spray` for
    any names from one address. Behind the site's NAT every coordinator shares an address: one mistyping locks out
    only that name, and a right password clears that name's count."""

    def __init__(self, limit: int = 5, window: float = 300.0, *, spray: int = 30, now=time.monotonic):
        self._limit, self._spray, self._window, self._now = limit, spray, window, now
        self._failures: dict[tuple[str, str | None], deque] = {}
        self._lock = threading.Lock()

    def blocked(self, client: str, name: str) -> bool:
        with self._lock:
            return (self._count((client, name)) >= self._limit
                    or self._count((client, None)) >= self._spray)

    def failed(self, client: str, name: str) -> None:
        with self._lock:
            for key in ((client, name), (client, None)):
                self._failures.setdefault(key, deque()).append(self._now())

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop((client, name), None)

    def _count(self, key: tuple[str, str | None]) -> int:
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and self._now() - failures[0] > self._window:
            failures.popleft()
        if not failures:
            del self._failures[key]    # a week of wrong names from many addresses does not stay in memory
        return len(failures)
