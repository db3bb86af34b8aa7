"""What the display says aloud: plain Spanish that espeak-ng reads well, offline.

The turn is read as it is printed, letter by its Spanish name and digit by digit: "P-007" is "pe, cero cero
siete". A citizen compares the sound with the paper in hand, and "pe siete" would not tell P-007 from P-070 or
P-700; the comma gives espeak-ng a short pause between the letter and the digits. The desk keeps the name
the site gave it, with its numbers said as words: "Módulo 12" is "módulo doce".
"""
from __future__ import annotations

import re

from appliance.core.spanish import to_the

LETTERS = {"A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "efe", "G": "ge", "H": "hache", "I": "i",
           "J": "jota", "K": "ka", "L": "ele", "M": "eme", "N": "ene", "Ñ": "eñe", "O": "o", "P": "pe", "Q": "cu",
           "R": "erre", "S": "ese", "T": "te", "U": "u", "V": "uve", "W": "uve doble", "X": "equis", "Y": "ye",
           "Z": "zeta"}
DIGITS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve")
UNDER_30 = DIGITS + ("diez", "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho",
                     "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro", "veinticinco",
                     "veintiséis", "veintisiete", "veintiocho", "veintinueve")
TENS = ("", "", "", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa")
HUNDREDS = ("", "ciento", "doscientos", "trescientos", "cuatrocientos", "quinientos", "seiscientos", "setecientos",
            "ochocientos", "novecientos")


def number_words(n: int) -> str:
    """0 to 999 in words; longer numbers digit by digit, as nobody names a desk with them."""
    if n >= 1000:
        return " ".join(DIGITS[int(d)] for d in str(n))
    if n == 100:
        return "cien"
    hundreds, rest = divmod(n, 100)
    if rest < 30:
        tail = UNDER_30[rest] if rest or not hundreds else ""
    else:
        tens, units = divmod(rest, 10)
        tail = TENS[tens] + (f" y {DIGITS[units]}" if units else "")
    return " ".join(part for part in (HUNDREDS[hundreds], tail) if part)


def spell_turn(number: str) -> str:
    """'P-007' -> 'pe, cero cero siete'."""
    letters = " ".join(LETTERS.get(ch, ch) for ch in number.upper() if ch.isalpha())
    digits = " ".join(DIGITS[int(ch)] for ch in number if ch.isdigit())
    return ", ".join(part for part in (letters, digits) if part)


def _desk(desk_name: str) -> str:
    """'Módulo 3' -> 'al módulo tres'; 'Ventanilla 2' -> 'a la ventanilla dos'."""
    first, _, rest = re.sub(r"\d+", lambda m: number_words(int(m.group())), desk_name.strip()).partition(" ")
    if not first.isupper():                      # an acronym (CIS) stays as written, to be spelt out
        first = first.lower()
    return " ".join(part for part in (to_the(first), first, rest) if part)


def announcement(number: str, desk_name: str, recall: bool) -> str:
    """'Turno pe, cero cero siete, diríjase al módulo tres.'"""
    again = ", nuevamente:" if recall else ","
    return f"Turno {spell_turn(number)}{again} diríjase {_desk(desk_name)}."
