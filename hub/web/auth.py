"""Who may see the page: scrypt password hashes for [[web.users]], a session cookie signed with HMAC-SHA256 under a
per-install secret kept in the hub's state directory, and a throttle on failed sign-ins."""
from __future__ import annotations

import base64
import binascii
import getpass
import hashlib
import hmac
import json
import logging
import os
import secrets
import sys
import threading
import time
from collections import deque
from pathlib import Path

from appliance.core.durable import fsync_dir

log = logging.getLogger(__name__)
SECRET_FILE = "web-secret"
COOKIE = "turnero_sesion"
SESSION_S = 12 * 3600               # a working day; then sign in again
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1   # 16 MiB and a fraction of a second on a Pi 4


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def hash_password(plain: str) -> str:
    """The `password_hash` of a [[web.users]] entry: scrypt with a random salt, parameters stored with it."""
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
        log.error("a password_hash in [[web.users]] cannot be used; make it again with turnero web-password")
        return False
    return hmac.compare_digest(actual, expected)


def password_prompt() -> int:
    """`turnero web-password`: asks for a password twice and prints the line for a [[web.users]] entry."""
    first = getpass.getpass("Password for the coordinators' page: ")
    if len(first) < 10:
        print("turnero web-password: use at least 10 characters", file=sys.stderr)
        return 2
    if getpass.getpass("The same password again: ") != first:
        print("turnero web-password: the two passwords differ", file=sys.stderr)
        return 2
    print(f'password_hash = "{hash_password(first)}"')
    return 0


def load_secret(state_dir: Path) -> bytes:
    """The per-install key that signs session cookies: made once, readable by the hub's user only."""
    path = Path(state_dir) / SECRET_FILE
    try:
        secret = path.read_bytes()
        if len(secret) >= 32:
            return secret
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(secret)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
    return secret


class Sessions:
    """Stateless signed cookies: "<name>.<expiry>.<mac>", the MAC also covering the user's current password
    hash, so a changed password or a removed user ends that user's sessions at once."""

    def __init__(self, secret: bytes, users: dict[str, str], *, now=time.time):
        self._secret, self._users, self._now = secret, users, now
        self._decoy = hash_password(secrets.token_hex(8))   # an unknown name costs as much as a wrong password

    def _mac(self, name: str, expiry: int) -> str:
        text = json.dumps([name, expiry, self._users[name]])
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()

    def sign_in(self, name: str, password: str) -> str | None:
        """A new cookie value, or None when the name or the password is wrong."""
        correct = verify_password(password, self._users.get(name, self._decoy))
        if not correct or name not in self._users:
            return None
        expiry = int(self._now()) + SESSION_S
        return f"{base64.urlsafe_b64encode(name.encode()).decode()}.{expiry}.{self._mac(name, expiry)}"

    def user(self, value: str | None) -> str | None:
        """The signed-in user of a cookie value; None if absent, altered, expired or of a removed user."""
        try:
            name_b64, expiry_text, mac = (value or "").split(".")
            name, expiry = base64.urlsafe_b64decode(name_b64).decode(), int(expiry_text)
        except (ValueError, binascii.Error):
            return None
        if name not in self._users or expiry < self._now():
            return None
        return name if hmac.compare_digest(self._mac(name, expiry), mac) else None


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
