"""Credentials and settings for one Daraja (M-Pesa Express) shortcode."""

from __future__ import annotations

import dataclasses
import re
from enum import StrEnum

SANDBOX_URL = "https://sandbox.safaricom.co.ke"
"""Safaricom's public Daraja sandbox."""

LIVE_URL = "https://api.safaricom.co.ke"
"""Safaricom's production Daraja API."""

SANDBOX_SHORTCODE = "174379"
"""The shared Lipa Na M-Pesa Online test shortcode of the Daraja sandbox."""

SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
"""The published passkey of :data:`SANDBOX_SHORTCODE` (public test credential, not a secret)."""

_SHORTCODE = re.compile(r"[0-9]{5,8}")


class TransactionType(StrEnum):
    """Whether the money goes to a paybill (with an account) or a till (Buy Goods)."""

    PAYBILL = "CustomerPayBillOnline"
    BUY_GOODS = "CustomerBuyGoodsOnline"


@dataclasses.dataclass(frozen=True, slots=True, repr=False)
class DarajaCredentials:
    """Everything needed to push and query STK payments for one shortcode.

    Attributes:
        base_url: :data:`SANDBOX_URL`, :data:`LIVE_URL` or the local provider sandbox.
        consumer_key: the Daraja app's consumer key (secret: hidden from repr).
        consumer_secret: the Daraja app's consumer secret (hidden from repr).
        shortcode: the ``BusinessShortCode`` (paybill, or the head office of a till).
        passkey: the Lipa Na M-Pesa Online passkey of ``shortcode`` (hidden from repr).
        transaction_type: paybill or Buy Goods.
        party_b: who receives the money; the till number for Buy Goods. Defaults to
            ``shortcode``.
    """

    base_url: str
    consumer_key: str
    consumer_secret: str
    shortcode: str
    passkey: str
    transaction_type: TransactionType = TransactionType.PAYBILL
    party_b: str = ""

    def __post_init__(self) -> None:
        base_url = self.base_url.strip().rstrip("/")
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("Daraja base_url must be an http(s) URL")
        object.__setattr__(self, "base_url", base_url)
        # Accept the plain string from settings, but keep the enum.
        object.__setattr__(self, "transaction_type", TransactionType(self.transaction_type))
        for name in ("consumer_key", "consumer_secret", "passkey"):
            if not getattr(self, name):
                raise ValueError(f"Daraja {name} is empty")
        if not _SHORTCODE.fullmatch(self.shortcode):
            raise ValueError("Daraja shortcode must be 5 to 8 digits")
        party_b = self.party_b or self.shortcode
        if not _SHORTCODE.fullmatch(party_b):
            raise ValueError("Daraja party_b (till or paybill number) must be 5 to 8 digits")
        object.__setattr__(self, "party_b", party_b)

    def __repr__(self) -> str:
        return (
            f"DarajaCredentials(base_url={self.base_url!r}, consumer_key='***', "
            f"consumer_secret='***', shortcode={self.shortcode!r}, passkey='***', "
            f"transaction_type={self.transaction_type.value!r}, party_b={self.party_b!r})"
        )

    __str__ = __repr__
