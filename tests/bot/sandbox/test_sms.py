"""SMS segment counting."""

from __future__ import annotations

import pytest

from bot.sandbox.sms import is_gsm7, segments


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("ü" * 160, 1),
        ("ł" * 70, 1),
        ("ł" * 71, 2),
        ("😀" * 35, 1),
        ("😀" * 36, 2),
    ],
)
def test_segments(text: str, parts: int) -> None:
    assert segments(text) == parts


def test_gsm7() -> None:
    assert is_gsm7("Habari! Salio: KES 1,200 {ok}")
    assert not is_gsm7("Habari 🙂")
