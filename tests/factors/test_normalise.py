from __future__ import annotations

import pytest

from voiceauth.errors import InvalidRecord
from voiceauth.factors.normalise import normalise_answer, normalise_dob, normalise_pin


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Rex", "rex"),
        ("  REX  ", "rex"),
        ("O'Brien", "obrien"),
        ("St.  Mary's\tSchool!", "st marys school"),
        ("Straße", "strasse"),
        ("ＲＥＸ", "rex"),  # full-width letters (NFKC)
        ("ﬁdo", "fido"),  # ligature (NFKC)
        ("Müller", "müller"),  # accents are kept
        ("Mu\u0308ller", "müller"),  # combining diaeresis composes (NFKC)
        ("new\u00a0york", "new york"),  # no-break space is whitespace
    ],
)
def test_answers_normalise(given: str, expected: str) -> None:
    assert normalise_answer(given) == expected


def test_an_answer_of_punctuation_only_is_refused_without_echoing_it() -> None:
    with pytest.raises(InvalidRecord, match="security answer") as caught:
        normalise_answer(" ?!. ")
    assert "?!" not in str(caught.value)


def test_pins() -> None:
    assert normalise_pin(" 12 34 ") == "1234"
    for bad in ("123", "1" * 13, "12a4", "١٢٣٤"):  # short, long, letter, Arabic-Indic digits
        with pytest.raises(InvalidRecord, match="PIN") as caught:
            normalise_pin(bad)
        assert bad not in str(caught.value)


def test_dates_of_birth() -> None:
    assert normalise_dob("1980-02-29") == "1980-02-29"
    assert normalise_dob("19800229") == "1980-02-29"
    for bad in ("1981-02-29", "29.02.1980", "1980-2-29", ""):
        with pytest.raises(InvalidRecord, match="date of birth"):
            normalise_dob(bad)
