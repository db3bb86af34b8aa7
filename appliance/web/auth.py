"""Passwords as scrypt hashes, checked a bounded number at a time, and a throttle on failed sign-ins (accounts.py
keeps the accounts and sessions)."""
from __future__ import annotations

import base64
import binascii
import ctypes
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1   # 16 MiB and a fraction of a second on a Pi 4
# Every scrypt of this process runs in one of these threads: sixteen sign-ins at once take 2 x 16 MiB, not
# 16 x 16 MiB, and the others wait their turn (a fraction of a second each).
CHECKS_AT_ONCE = 2
MAX_MEMORY = 2 * 128 * SCRYPT_R * SCRYPT_N     # a stored hash that asks for more is not checked
_scrypts = ThreadPoolExecutor(max_workers=CHECKS_AT_ONCE, thread_name_prefix="scrypt")
# glibc keeps a freed 16 MiB in the thread's arena (its mmap threshold grows to the largest block freed): handed
# back to the system after each scrypt, the hub's memory comes back to where it was.
_trim = getattr(ctypes.CDLL(None), "malloc_trim", None)


def _scrypt(plain: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    def run() -> bytes:
        try:
            return hashlib.scrypt(plain.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=MAX_MEMORY)
        finally:
            if _trim is not None:
                _trim(0)
    return _scrypts.submit(run).result()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(plain: str) -> str:
    """An account's password hash: scrypt with a random salt, its parameters stored with it."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(plain, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, 32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(plain: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        expected = base64.b64decode(digest, validate=True)
        actual = _scrypt(plain, base64.b64decode(salt, validate=True), int(n), int(r), int(p), len(expected))
    except (ValueError, binascii.Error):
        log.error("an account's password hash cannot be used; give it a new one with turnero web-user passwd")
        return False
    return hmac.compare_digest(actual, expected)


# Failed sign-ins within WINDOW_S (Throttle's defaults).
WINDOW_S = 300.0
PER_NAME_AND_ADDRESS = 5
PER_ADDRESS = 30
PER_ACCOUNT = 20


class Throttle:
    """Failed sign-ins within `window` seconds: at most `limit` for one name from one address, `spray` for any names
    from one address, and `account` for one name from all addresses together. Past the last, only an address with
    no failure of its own is heard (each new address once, then its failure counts): a coordinator whose password
    is right still gets in while a guesser spread over many addresses is held. Behind the site's NAT every
    coordinator shares an address: one mistyping locks out only that name, and a right password clears it.

    `admit` counts an attempt as failed in the same step that allows it, and `succeeded` takes it back: sixteen
    guesses sent at once from one address get `limit` checks, not sixteen."""

    def __init__(self, limit: int = PER_NAME_AND_ADDRESS, window: float = WINDOW_S, *, spray: int = PER_ADDRESS,
                 account: int = PER_ACCOUNT, now=time.monotonic):
        self._limit, self._spray, self._account, self._window, self._now = limit, spray, account, window, now
        self._failures: dict[tuple[str | None, str | None], deque] = {}
        self._lock = threading.Lock()

    def admit(self, client: str, name: str) -> bool:
        """Whether this sign-in may be checked; if so it counts as failed until `succeeded`."""
        keys = ((client, name), (client, None), (None, name))
        with self._lock:
            own, address, account = (self._count(key) for key in keys)
            if own >= self._limit or address >= self._spray or (account >= self._account and address):
                return False
            for key in keys:
                self._failures.setdefault(key, deque()).append(self._now())
            return True

    def succeeded(self, client: str, name: str) -> None:
        with self._lock:
            self._failures.pop((client, name), None)
            for key in ((client, None), (None, name)):   # the attempt `admit` counted
                failures = self._failures.get(key)
                if failures:
                    failures.pop()

    def _count(self, key: tuple[str | None, str | None]) -> int:
        failures = self._failures.get(key)
        if failures is None:
            return 0
        while failures and self._now() - failures[0] > self._window:
            failures.popleft()
        if not failures:
            del self._failures[key]    # a week of wrong names from many addresses does not stay in memory
        return len(failures)
