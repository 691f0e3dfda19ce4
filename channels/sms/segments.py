"""SMS length: which encoding a text needs and how many segments (billed parts) it takes.

GSM-7 (3GPP TS 23.038 default alphabet) fits 160 septets in one SMS and 153 per part of a
concatenated one; characters of the extension table (``^{}\\[~]|€`` and form feed) take two
septets, and the two are never split across parts. Any other character forces UCS-2: 70 UTF-16
units in one SMS, 67 per part; characters outside the Basic Multilingual Plane (most emoji) take
two units (a surrogate pair), which is never split across parts either.
"""

from __future__ import annotations

from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The 127 characters of the default alphabet (the 128th code is the escape to the extension)."""
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
"""Characters reached through the escape code: two septets each."""

SINGLE_LIMIT: dict[Encoding, int] = {"GSM-7": 160, "UCS-2": 70}
PART_LIMIT: dict[Encoding, int] = {"GSM-7": 153, "UCS-2": 67}
"""A concatenated SMS loses room in every part to the 6-byte user-data header."""


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character is in the default alphabet or its extension, else ``"UCS-2"``."""
    return "GSM-7" if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text) else "UCS-2"


def units(text: str) -> int:
    """The length of ``text`` in its encoding's units (septets or UTF-16 code units)."""
    return sum(_costs(text, encoding(text)))


def segments(text: str) -> int:
    """How many SMS parts ``text`` is sent (and billed) as; 0 for an empty text."""
    if not text:
        return 0
    enc = encoding(text)
    costs = _costs(text, enc)
    if sum(costs) <= SINGLE_LIMIT[enc]:
        return 1
    parts, used = 1, 0
    for cost in costs:
        if used + cost > PART_LIMIT[enc]:  # a two-unit character moves whole to the next part
            parts, used = parts + 1, 0
        used += cost
    return parts


def _costs(text: str, enc: Encoding) -> list[int]:
    if enc == "GSM-7":
        return [2 if c in GSM7_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]
