"""The SMS fast path: ``SALE <code> <qty> [<code> <qty>...] [CASH | MPESA <phone>]``.

``UZA`` is the Swahili keyword, ``TASLIMU`` the Swahili for cash. Parsing only splits the text;
the flow checks codes, quantities and the phone, and asks again for whatever is wrong.
"""

from __future__ import annotations

import dataclasses

CASH_WORDS = frozenset({"CASH", "TASLIMU", "PESA"})
MPESA_WORDS = frozenset({"MPESA", "M-PESA"})


@dataclasses.dataclass(frozen=True, slots=True)
class SaleArgs:
    lines: tuple[tuple[str, str], ...]
    """``(code, quantity text)`` pairs as typed; the quantity text may be empty or wrong."""
    method: str | None = None
    """``cash``, ``mpesa`` or None when not given."""
    phone: str | None = None


def parse(text: str) -> SaleArgs:
    words = (text or "").split()
    lines: list[tuple[str, str]] = []
    method: str | None = None
    phone: str | None = None
    i = 0
    while i < len(words):
        word = words[i].upper()
        if word in CASH_WORDS:
            method = "cash"
            phone = " ".join(words[i + 1 :]) or None
            break
        if word in MPESA_WORDS:
            method = "mpesa"
            phone = " ".join(words[i + 1 :]) or None
            break
        quantity = words[i + 1] if i + 1 < len(words) else ""
        if quantity.upper() in CASH_WORDS | MPESA_WORDS:
            quantity = ""
            i += 1
        else:
            i += 2
        lines.append((word, quantity))
    return SaleArgs(tuple(lines), method, phone)
