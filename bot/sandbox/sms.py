"""SMS segment counting (GSM-7 vs UCS-2), as SMS providers bill and report it."""

from __future__ import annotations

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


def is_gsm7(text: str) -> bool:
    """Tell whether the text fits the GSM 03.38 alphabet (basic plus extension table)."""
    return all(char in _GSM7_BASIC or char in _GSM7_EXTENDED for char in text)


def segments(text: str) -> int:
    """Return how many SMS parts the text takes (160/153 septets, else 70/67 UCS-2 units)."""
    if is_gsm7(text):
        # Extension characters travel as escape + char, two septets each.
        length = sum(2 if char in _GSM7_EXTENDED else 1 for char in text)
        single, multi = 160, 153
    else:
        # Characters outside the BMP (emoji) take two UTF-16 code units.
        length = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if length <= single:
        return 1
    return -(-length // multi)
