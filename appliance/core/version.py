"""The software a device runs, as the coordinators' pages and the central show it: `0.1.0+3f16fb2`."""
from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path


@functools.cache
def software() -> str:
    """The version and, from a checkout (how the Pis are installed), its commit; read once per process."""
    try:
        version = metadata.version("turnero")
    except metadata.PackageNotFoundError:
        version = "unknown"
    try:
        commit = subprocess.run(["git", "-C", str(Path(__file__).resolve().parents[2]), "rev-parse", "--short",
                                 "HEAD"], capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+{commit}"
