"""The ``Jumbe-Signature`` header on outbound webhooks: how we sign, and how a receiver checks."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Jumbe-Signature"
TOLERANCE_SECONDS = 300
"""A receiver refuses timestamps further than this from its clock (replays of old deliveries)."""


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Jumbe-Signature`` header: ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """What a receiver does: recompute the HMAC, compare in constant time, refuse stale timestamps."""
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))
