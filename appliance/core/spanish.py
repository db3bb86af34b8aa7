"""Dates, times and counts in the Spanish a Colombian citizen reads, without depending on the system's locales
(a Pi image rarely has es_CO generated)."""
from __future__ import annotations

import math
from datetime import date, datetime

from appliance.site.model import WEEKDAYS

MONTHS = ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
          "noviembre", "diciembre")


def long_date(day: date) -> str:
    """'martes 24 de noviembre de 2026'."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} de {MONTHS[day.month - 1]} de {day.year}"


def short_date(day: date) -> str:
    """'24/11/2026'."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def clock(moment: datetime) -> str:
    """'14:05', the 24-hour clock that public offices in Colombia post."""
    return f"{moment.hour}:{moment.minute:02d}"


def plural(count: int, singular: str, plural_form: str) -> str:
    """The word that agrees with the count: 1 minuto, 0 and 2 minutos (Spanish uses the plural for zero)."""
    return singular if count == 1 else plural_form


def either(names: list[str]) -> str:
    """'Módulo 2', 'Módulo 2 o Módulo 3', 'Módulo 1, Módulo 2 o Módulo 3'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} o {names[-1]}"


def duration(seconds: float) -> str:
    """'40 segundos', '1 minuto', '3 minutos': a wait in whole units, rounded up (never shorter than it is)."""
    if seconds > 60:
        minutes = math.ceil(seconds / 60)
        return f"{minutes} {plural(minutes, 'minuto', 'minutos')}"
    whole = max(1, math.ceil(seconds))
    return "1 minuto" if whole == 60 else f"{whole} {plural(whole, 'segundo', 'segundos')}"


def to_the(noun: str) -> str:
    """'a la' or 'al', the contraction before a place's name: desk names are nouns whose gender shows in the
    ending (caja, ventanilla, mesa against módulo, puesto)."""
    first = noun.strip().partition(" ")[0]
    return "a la" if first.endswith("a") and first.isalpha() else "al"
