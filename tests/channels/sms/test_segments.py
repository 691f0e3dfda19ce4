from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.segments import GSM7_BASIC, GSM7_EXTENSION, encoding, segments, units

EMOJI = "\U0001f44d"  # outside the BMP: a surrogate pair in UTF-16


def test_alphabet_sizes() -> None:
    assert len(GSM7_BASIC) == 127  # 128 codes, one of them the escape
    assert len(GSM7_EXTENSION) == 10
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "GSM-7"),
        ("Salio lako ni KES 1,200. Asante!", "GSM-7"),
        ("Prix: 5€ {ok} [x] ~^|\\", "GSM-7"),
        ("Ÿ", "UCS-2"),
        ("It’s paid", "UCS-2"),  # a typographic apostrophe is not in the GSM alphabet
        ("ç", "UCS-2"),  # only the capital Ç is in the basic table
        ("Ç é ñ ü à Ø Δ", "GSM-7"),
        (EMOJI, "UCS-2"),
        ("tab\there", "UCS-2"),
        ("\x1b", "UCS-2"),  # the escape code itself is not a character
    ],
)
def test_encoding(text: str, expected: str) -> None:
    assert encoding(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("a" * 459, 3),
        ("a" * 460, 4),
        # Extension characters take two septets.
        ("€" * 80, 1),
        ("€" * 80 + "a", 2),
        ("a" * 158 + "{", 1),
        ("a" * 159 + "{", 2),
        # ... and are never split across parts: 152 + 2 does not fit a 153-septet part.
        ("a" * 152 + "€" + "a" * 151, 2),
        ("a" * 152 + "€" + "a" * 152, 3),
        # UCS-2: 70 single, 67 per part.
        ("ü" * 69 + "’", 1),
        ("’" * 70, 1),
        ("’" * 71, 2),
        ("’" * 134, 2),
        ("’" * 135, 3),
        # Emoji are two UTF-16 units.
        (EMOJI * 35, 1),
        (EMOJI * 35 + "a", 2),
        ("a" * 69 + EMOJI, 2),
        # ... and a surrogate pair is never split: 66 + 2 does not fit a 67-unit part.
        ("a" * 66 + EMOJI + "a" * 65, 2),
        ("a" * 66 + EMOJI + "a" * 66, 3),
    ],
)
def test_segments(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_units() -> None:
    assert units("abc") == 3
    assert units("a€") == 3
    assert units("a’") == 2
    assert units("a" + EMOJI) == 3


@given(st.text(max_size=600))
def test_segments_are_enough_for_the_units(text: str) -> None:
    count = segments(text)
    size = units(text)
    single, part = (160, 153) if encoding(text) == "GSM-7" else (70, 67)

    if not text:
        assert count == 0
    elif size <= single:
        assert count == 1
    else:
        assert count * part >= size
        # every part but the last is full but for at most one unit (a two-unit character moved on)
        assert (count - 1) * (part - 1) < size


@given(st.text(alphabet=sorted(GSM7_BASIC), min_size=1, max_size=600))
def test_basic_alphabet_matches_the_naive_formula(text: str) -> None:
    expected = 1 if len(text) <= 160 else -(-len(text) // 153)
    assert segments(text) == expected
