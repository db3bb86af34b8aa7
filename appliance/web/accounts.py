"""The coordinators' accounts and their sessions, kept by the hub (and the central) in one small TinyDB document
store (`coordinators.json` in its state directory), written only when someone signs in or out or an account
changes.

- ``users``: name, scrypt password hash (auth.py) and, at the central, the sites the user may see (`sites`: a
  list of site ids, or absent for every site);
- ``sessions``: the SHA-256 of a session's random token (the cookie holds the token; a copy of the file opens
  nothing), its user and when it expires. Signing out deletes the record; a new password or a removed account
  deletes every record of that user, so the old cookie opens nothing from that moment.

The page and `turnero web-user` or `turnero central user` (another process) share the file: every read goes to the file (no TinyDB query
cache), every write replaces it whole and atomically, under an advisory lock beside it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from tinydb import Query, TinyDB
from tinydb.storages import Storage

from appliance.core.durable import write_atomic
from appliance.web.auth import hash_password, verify_password

log = logging.getLogger(__name__)
FILE = "coordinators.json"
SESSION_S = 12 * 3600               # a working day; then sign in again
NAME_CHARACTERS = 64
MIN_PASSWORD = 10
# Checked against for an unknown name, so that it costs what a wrong password costs, the first time too: the hash
# of a random password nobody kept, with the parameters of every account's.
DECOY = "scrypt$16384$8$1$m/+oLqo3ZSmdyNKNq52Vyw==$jD8JxS7L0FTF/VZFGLjF2aldlKCpKRo+jD9raG4A9qw="


class AccountError(ValueError):
    """An account cannot be made or changed; the text says why (in the technician's words)."""


class _AtomicJSON(Storage):
    """TinyDB's storage as a file replaced whole: a power cut leaves the old file or the new, never half of one.
    A file that cannot be read is reported and taken as empty (everyone signs in again), never a crash."""

    def __init__(self, path: str):
        self.path = Path(path)

    def read(self) -> dict | None:
        try:
            data = json.loads(self.path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.error("web: %s cannot be read (%s); taken as empty", self.path, str(exc)[:200])
            return None
        return data if isinstance(data, dict) else None

    def write(self, data: dict) -> None:
        write_atomic(self.path, json.dumps(data, ensure_ascii=False).encode(), mode=0o600)
        owner = self.path.parent.stat()
        if os.geteuid() == 0 and owner.st_uid != 0:      # `sudo turnero web-user`: the hub must still read it
            os.chown(self.path, owner.st_uid, owner.st_gid)


def _plausible(token: str | None) -> bool:
    return bool(token) and len(token) <= 100     # token_urlsafe(32) is 43 characters; a longer one is nobody's


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Users and sessions of one page. Thread-safe; safe beside a `turnero web-user` run on the same file."""

    def __init__(self, state_dir: Path, *, now=time.time):
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / FILE
        self._lock_path = state_dir / f".{FILE}.lock"
        self._db = TinyDB(str(self.path), storage=_AtomicJSON)
        self._users = self._db.table("users", cache_size=0)
        self._sessions = self._db.table("sessions", cache_size=0)
        self._now = now
        self._thread_lock = threading.Lock()

    @contextmanager
    def _locked(self):
        # Read-only is enough for flock: a lock file that `sudo turnero web-user` made stays usable by the hub.
        with self._thread_lock:
            fd = os.open(self._lock_path, os.O_RDONLY | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    # --- accounts (turnero web-user) ---------------------------------------------------------------------

    def names(self) -> list[str]:
        with self._locked():
            return sorted(user["name"] for user in self._users.all())

    def add(self, name: str, password: str, *, sites: list[str] | None = None) -> None:
        """`sites`: the only sites this user may see (the central's accounts); None for every one."""
        _check(name, password)
        hashed = hash_password(password)      # a fraction of a second: not while the page waits on the lock
        with self._locked():
            if self._users.contains(Query().name == name):
                raise AccountError(f"the account {name!r} exists already: give it a new password with passwd")
            self._users.insert({"name": name, "password_hash": hashed,
                                **({} if sites is None else {"sites": sorted(set(sites))})})

    def sites(self, name: str) -> tuple[str, ...] | None:
        """The sites this user may see; None for every site (and for an account without a list)."""
        with self._locked():
            user = self._users.get(Query().name == name)
        if user is None:
            return ()
        sites = user.get("sites")
        return None if sites is None else tuple(s for s in sites if isinstance(s, str))

    def set_password(self, name: str, password: str) -> int:
        """A new password; every session of that user ends. Returns how many ended."""
        _check(name, password)
        hashed = hash_password(password)
        with self._locked():
            if not self._users.update({"password_hash": hashed}, Query().name == name):
                raise AccountError(f"there is no account {name!r}")
            return len(self._sessions.remove(Query().user == name))

    def remove(self, name: str) -> int:
        """The account and its sessions; returns how many sessions ended. The sessions go first: a power cut
        between the two writes leaves an account without sessions, never a session without its account."""
        with self._locked():
            if not self._users.contains(Query().name == name):
                raise AccountError(f"there is no account {name!r}")
            ended = len(self._sessions.remove(Query().user == name))
            self._users.remove(Query().name == name)
            return ended

    # --- sessions (the page) -----------------------------------------------------------------------------

    def sign_in(self, name: str, password: str) -> str | None:
        """A new session's token for the cookie, or None when the name or the password is wrong."""
        with self._locked():
            user = self._users.get(Query().name == name)
        if not verify_password(password, user["password_hash"] if user else DECOY) or user is None:
            return None
        token, now = secrets.token_urlsafe(32), self._now()
        with self._locked():
            # The password was checked outside the lock: the account must still be as it was then (not removed,
            # no new password), or the session would outlive what ends sessions.
            if self._users.get(Query().name == name) != user:
                return None
            self._sessions.remove(Query().expires < now)      # expired ones go when someone signs in
            self._sessions.insert({"digest": _digest(token), "user": name, "created": int(now),
                                   "expires": int(now) + SESSION_S})
        return token

    def user(self, token: str | None) -> str | None:
        """The signed-in user of a cookie's token; None if absent, unknown, ended or expired. One read of the
        file per request: a session exists only while its account does (remove and set_password end them)."""
        if not _plausible(token):
            return None
        with self._locked():
            session = self._sessions.get(Query().digest == _digest(token))
        return session["user"] if session is not None and session["expires"] >= self._now() else None

    def sign_out(self, token: str | None) -> None:
        if _plausible(token):
            with self._locked():
                self._sessions.remove(Query().digest == _digest(token))


def _check(name: str, password: str) -> None:
    if not (0 < len(name) <= NAME_CHARACTERS and name == name.strip() and name.isprintable()):
        raise AccountError(f"a user name is 1 to {NAME_CHARACTERS} printable characters without spaces around, "
                           f"not {name!r}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"use a password of at least {MIN_PASSWORD} characters")
