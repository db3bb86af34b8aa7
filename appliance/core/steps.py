"""The step every role's loop takes: what arrived in its inbox, each message handled or refused.

paho's thread and the buttons only put things in a role's inbox; the role's own loop takes them out. A handler
may meet anything (a board of the wrong shape, a fault of ours): that one message is refused, logged once in a
bounded line and counted, and the role goes on with what it knew. The hub acknowledges a refused message like
any other, so none stops a role and none comes back at every start.
"""
from __future__ import annotations

import queue
from typing import Callable, TypeVar

from appliance import contract

Result = TypeVar("Result")


def arrived(inbox: queue.Queue, timeout: float, limit: int | None = 1) -> list:
    """The first item, waited for at most `timeout`, then what is already there, up to `limit` in all (None: all
    of it). Empty when nothing came in time."""
    items: list = []
    try:
        items.append(inbox.get(timeout=timeout))
        while limit is None or len(items) < limit:
            items.append(inbox.get_nowait())
    except queue.Empty:
        pass
    return items


def refusing(refusals: contract.Refusals, device: str, handle: Callable[..., Result], message) -> Result | None:
    """handle(message), or None when it raises: the message is refused, not the role."""
    try:
        return handle(message)
    except Exception as exc:
        refusals.note(device, message.topic, exc)
        return None
