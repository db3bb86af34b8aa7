"""Small, atomic writes for an SD card that may lose power at any instant.

A file is either its old content or its new content, never a torn mix: write a temporary file beside it,
fsync it, rename it over the old one, and fsync the directory so the rename itself survives a power cut.
"""
from __future__ import annotations

import json
import os
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as handle:
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
