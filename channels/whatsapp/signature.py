"""Meta webhook authentication: the ``X-Hub-Signature-256`` check and the GET verification handshake."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

_PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdef")


def verify_signature(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    """Tell whether ``header`` is Meta's HMAC-SHA256 of the raw request body.

    Args:
        raw_body: the request body exactly as received; a re-serialised JSON body would not match.
        header: the ``X-Hub-Signature-256`` value (``"sha256=<hex>"``), or None when absent.
        app_secret: the Meta app secret.

    Returns:
        True only for a well-formed header whose digest matches. A missing or malformed header,
        or an empty app secret (anyone can compute an HMAC with an empty key), gives False.
    """
    if not header or not app_secret or not header.startswith(_PREFIX):
        return False
    provided = header[len(_PREFIX) :].strip().lower()
    if len(provided) != hashlib.sha256().digest_size * 2 or not set(provided) <= _HEX_DIGITS:
        return False
    expected = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, provided)


def verify_handshake(params: Mapping[str, str], verify_token: str) -> str | None:
    """Answer Meta's subscription check (``GET ?hub.mode=subscribe&hub.verify_token=..&hub.challenge=..``).

    Returns:
        The ``hub.challenge`` string to send back as the 200 body, or None (answer 403) when the
        mode is not ``subscribe``, the token does not match, or no token is configured.
    """
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    token = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    challenge = params.get("hub.challenge")
    return challenge or None
