"""What a request may ask: a period of days (`desde`, `hasta`) and form fields, refused with the Spanish sentence
that says why."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs

MAX_DAYS = 366                      # the longest period for the CSV and the report
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadRequest(Exception):
    """Input the page refuses, with the Spanish sentence that says why."""


def period(query: dict[str, list[str]], today: date) -> tuple[date, date]:
    """The `desde`/`hasta` of a request: YYYY-MM-DD, in order, at most MAX_DAYS days; today by default."""
    def day(key: str, label: str, default: date) -> date:
        text = (query.get(key) or [""])[0].strip()
        if not text:
            return default
        try:
            if not _DAY.fullmatch(text):
                raise ValueError
            return date.fromisoformat(text)
        except ValueError:
            raise BadRequest(f"La fecha {label} «{text[:20]}» no es válida. Escríbala como AAAA-MM-DD, por "
                             "ejemplo 2026-11-24.") from None
    first = day("desde", "inicial", today)
    last = day("hasta", "final", first)
    if first > last:
        raise BadRequest("La fecha inicial es posterior a la final.")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise BadRequest(f"El periodo pedido tiene {days} días; el máximo es {MAX_DAYS}. Pida un periodo más corto.")
    return first, last


def parse_query(text: str) -> dict[str, list[str]]:
    try:
        return parse_qs(text, max_num_fields=20)
    except ValueError:
        raise BadRequest("La solicitud trae demasiados campos.") from None


def period_query(first: date, last: date) -> dict[str, list[str]]:
    return {"desde": [first.isoformat()], "hasta": [last.isoformat()]}
