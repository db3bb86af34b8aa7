"""Writes that survive an SD card losing power at any instant.

Small files are replaced atomically: a file is either its old content or its new content, never a torn mix
(write a temporary file beside it, fsync it, rename it over the old one, and fsync the directory so the rename
itself survives a power cut).

A journal grows by appends: each append is written whole and fsynced before it returns, and a new file's
directory is fsynced once, so that its name survives too. What a power cut can leave is a torn end after the
last complete append; the journal's reader recognises and cuts it (appliance/records/journal.py).
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes, *, mode: int = 0o666) -> None:
    """`mode` (before the umask) is the file's from its first byte: a key is never readable by others, not even
    while it is written."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)     # left by a power cut, perhaps with other permissions
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_json_atomic(path: Path, value) -> None:
    write_atomic(path, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_for_append(path: Path) -> int:
    """A descriptor that writes at the end of `path`, created if missing (its directory then fsynced)."""
    path = Path(path)
    try:
        return os.open(path, os.O_WRONLY | os.O_APPEND)
    except FileNotFoundError:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fsync_dir(path.parent)
        except BaseException:
            os.close(fd)
            raise
        return fd


def append(fd: int, data: bytes) -> None:
    """All of `data` at the end of the file, on the card when this returns: one write (repeated only if the
    kernel takes part of it) and one fsync."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def truncate(path: Path, size: int) -> None:
    """Cuts `path` to its first `size` bytes, durably."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    finally:
        os.close(fd)
