"""A ticket's public code: what its QR code's address ends with, and the key the "Mi turno" page finds the turn by.

HMAC-SHA256 of the ticket's turn id under the site's secret ([public] secret_file, the same file on the hub and
every kiosk): a kiosk prints it with no network, the hub derives the same one, and without the secret nobody can
tell one code from random, guess another turn's, or link two tickets. 80 bits: at the page's rate limits a
guess would take longer than the universe has. The code names no person and no turn; the turn id holds the day,
so a code is valid for one day only.
"""
from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlsplit

from appliance.contract import TICKET_TURN
from appliance.contract.fields import CODE_ALPHABET

SECRET_BYTES = 32
PATH = "/t/"          # the page's address: <public address>/t/<code>


class SecretError(OSError):
    """The site secret cannot be read, or is too short to be one."""


def read_secret(path: Path) -> bytes:
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as exc:
        raise SecretError(f"the site secret {path} cannot be read: {exc.strerror or exc}") from None
    if len(secret) < SECRET_BYTES:
        raise SecretError(f"the site secret {path} has {len(secret)} bytes; at least {SECRET_BYTES} "
                          "(`turnero install --role hub` makes one)")
    return secret


def public_code(secret: bytes, turn_id: str) -> str:
    """The code of the ticket that opened `turn_id`: a transferred turn ("…/P007>V") keeps its ticket's code."""
    ticket = TICKET_TURN.match(turn_id).group(0)
    digest = int.from_bytes(hmac.new(secret, ticket.encode(), hashlib.sha256).digest()[:10], "big")
    code = "".join(CODE_ALPHABET[(digest >> shift) & 31] for shift in range(75, -1, -5))
    return code


def ticket_address(address: str, code: str) -> str:
    """The page of one ticket, as its QR code holds it."""
    return f"{address.rstrip('/')}{PATH}{code}"


def typed_address(address: str, code: str) -> str:
    """The same address as the ticket prints it under the code, for typing: without "https://" (a browser adds
    it, and the site's redirect sends plain HTTP there)."""
    parts = urlsplit(ticket_address(address, code))
    return f"{parts.netloc}{parts.path}"
