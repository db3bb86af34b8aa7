"""What the display says aloud: natural Spanish for espeak-ng, offline.

"P-007" is read letter by letter and digit by digit ("pe, cero cero siete"): it is how the citizen reads it
on the paper, and a citizen holding P-070 is not misled by "pe setenta" against "pe siete". The desk's name
is read with its number in words, on its own ("Módulo tres"), which suits any name a site gives its desks.
"""
from __future__ import annotations

import re

LETTERS = {"A": "a", "B": "be", "C": "ce", "D": "de", "E": "e", "F": "efe", "G": "ge", "H": "hache", "I": "i",
           "J": "jota", "K": "ka", "L": "ele", "M": "eme", "N": "ene", "Ñ": "eñe", "O": "o", "P": "pe", "Q": "cu",
           "R": "erre", "S": "ese", "T": "te", "U": "u", "V": "uve", "W": "uve doble", "X": "equis", "Y": "ye",
           "Z": "zeta"}
DIGITS = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve")
UNITS = ("", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce",
         "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte", "veintiuno",
         "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho",
         "veintinueve")
TENS = {3: "treinta", 4: "cuarenta", 5: "cincuenta", 6: "sesenta", 7: "setenta", 8: "ochenta", 9: "noventa"}


def number_words(n: int) -> str:
    """0 to 99 in words."""
    if n == 0:
        return "cero"
    if n < 30:
        return UNITS[n]
    tens, units = divmod(n, 10)
    return TENS[tens] + (f" y {UNITS[units]}" if units else "")


def spell_turn(number: str) -> str:
    """'P-007' -> 'pe, cero cero siete'."""
    letters = " ".join(LETTERS.get(ch, ch.lower()) for ch in number if ch.isalpha())
    digits = " ".join(DIGITS[int(ch)] for ch in number if ch.isdigit())
    return f"{letters}, {digits}" if letters else digits


def _desk_words(desk_name: str) -> str:
    return re.sub(r"\d{1,2}", lambda m: number_words(int(m.group())), desk_name).lower()


def announcement(number: str, desk_name: str, recall: bool) -> str:
    again = " nuevamente" if recall else ""
    desk = _desk_words(desk_name)
    return f"Turno {spell_turn(number)}{again}. {desk[0].upper()}{desk[1:]}."
