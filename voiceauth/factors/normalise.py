"""Canonical forms of knowledge-factor values, applied before hashing and before checking.

A hash compares bytes, so "Müller ", "MÜLLER" and "muller" must become one string before it
is hashed, or a customer who answers correctly is refused. Answers: Unicode NFKC (full-width
and compatibility forms fold to their plain letters), case folding (`str.casefold`, which also
folds "ß" to "ss"), punctuation removed (Unicode category P*, so "O'Brien" == "OBrien"), and
runs of whitespace collapsed to one space. Accents are kept: "Müller" and "Muller" are
different answers, as the customer gave them. PINs are digits only; dates of birth are ISO
8601 calendar dates. Pure functions: no I/O, and the value never appears in an error message
(errors are logged; the value is a secret).
"""

from __future__ import annotations

import unicodedata
from datetime import date

from voiceauth.errors import InvalidRecord

PIN_DIGITS = (4, 12)
"""Shortest and longest PIN accepted (ISO 9564-1 allows 4 to 12 digits)."""
MAX_ANSWER_CHARS = 256


def normalise_answer(text: str) -> str:
    """The canonical form of a security answer; InvalidRecord if nothing is left."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    kept = "".join(c for c in folded if not unicodedata.category(c).startswith("P"))
    answer = " ".join(kept.split())
    if not answer or len(answer) > MAX_ANSWER_CHARS:
        raise InvalidRecord(f"security answer: need 1..{MAX_ANSWER_CHARS} characters of text")
    return answer


def normalise_pin(text: str) -> str:
    """A PIN as its digits (spaces around and between groups dropped)."""
    pin = "".join(text.split())
    low, high = PIN_DIGITS
    if not (low <= len(pin) <= high) or not pin.isascii() or not pin.isdigit():
        raise InvalidRecord(f"PIN: need {low}..{high} digits")
    return pin


def normalise_dob(text: str) -> str:
    """A date of birth as YYYY-MM-DD; accepts YYYY-MM-DD and YYYYMMDD (keypad entry)."""
    value = text.strip()
    if len(value) not in (8, 10) or not value.isascii():
        raise InvalidRecord("date of birth: need YYYY-MM-DD or YYYYMMDD")
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidRecord("date of birth: need YYYY-MM-DD or YYYYMMDD") from None
