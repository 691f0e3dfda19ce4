from __future__ import annotations

import hashlib
import hmac
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from channels.whatsapp.signature import verify_handshake, verify_signature

DATA = Path(__file__).parents[1] / "data" / "whatsapp"
SECRET = "app-secret"
BODY = (DATA / "whatsapp_text.json").read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_valid_signature_over_raw_bytes() -> None:
    assert verify_signature(BODY, sign(BODY), SECRET)


def test_uppercase_hex_is_accepted() -> None:
    header = sign(BODY)
    assert verify_signature(BODY, "sha256=" + header[7:].upper(), SECRET)


def test_reserialised_body_fails() -> None:
    # The signature covers the bytes Meta sent, not an equivalent JSON document.
    compact = BODY.replace(b"\n", b"").replace(b"  ", b"")
    assert not verify_signature(compact, sign(BODY), SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        sign(BODY)[7:],  # no prefix
        sign(BODY)[:-1],  # too short
        sign(BODY)[:-2] + "zz",  # not hex
        sign(BODY, "other-secret"),
        sign(BODY + b" "),
    ],
)
def test_invalid_signatures(header: str | None) -> None:
    assert not verify_signature(BODY, header, SECRET)


def test_empty_app_secret_never_verifies() -> None:
    assert not verify_signature(BODY, sign(BODY, ""), "")


PARAMS = dict(parse_qsl((DATA / "whatsapp_verify_handshake.query").read_text().strip()))


def test_handshake_returns_the_challenge() -> None:
    assert verify_handshake(PARAMS, "meatyhamhock") == "1158201444"


@pytest.mark.parametrize(
    ("params", "token"),
    [
        (PARAMS, "wrong"),
        (PARAMS, ""),
        ({**PARAMS, "hub.mode": "unsubscribe"}, "meatyhamhock"),
        ({k: v for k, v in PARAMS.items() if k != "hub.verify_token"}, "meatyhamhock"),
        ({k: v for k, v in PARAMS.items() if k != "hub.challenge"}, "meatyhamhock"),
        ({}, "meatyhamhock"),
    ],
)
def test_handshake_refused(params: dict[str, str], token: str) -> None:
    assert verify_handshake(params, token) is None
