"""A scripted Daraja behind httpx.MockTransport, and the recorded payloads."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from channels.mpesa.client import STK_PUSH_PATH, STK_QUERY_PATH, TOKEN_PATH, DarajaClient
from channels.mpesa.config import SANDBOX_PASSKEY, SANDBOX_SHORTCODE, SANDBOX_URL, DarajaCredentials
from core.clock import FixedClock

DATA = Path(__file__).parent.parent / "data" / "mpesa"

# 13:56:27 UTC is 16:56:27 in Nairobi: the instant of Daraja's documented sample request.
SAMPLE_INSTANT = datetime(2016, 2, 16, 13, 56, 27, tzinfo=UTC)

Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


class FakeDaraja:
    """Issues tokens on its own; STK answers come from per-path scripts, in order."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.scripts: dict[str, deque[Reply]] = {STK_PUSH_PATH: deque(), STK_QUERY_PATH: deque()}
        self.token_replies: deque[Reply] = deque()
        self.tokens_issued = 0
        self.expires_in: object = "3599"

    def on(self, path: str, *replies: Reply) -> None:
        self.scripts[path].extend(replies)

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]

    def sent(self, path: str) -> list[httpx.Request]:
        return [request for request in self.requests if request.url.path == path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == TOKEN_PATH:
            if self.token_replies:
                return self._play(self.token_replies.popleft(), request)
            self.tokens_issued += 1
            return httpx.Response(
                200, json={"access_token": f"tok-{self.tokens_issued}", "expires_in": self.expires_in}
            )
        script = self.scripts.get(request.url.path)
        if not script:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        return self._play(script.popleft(), request)

    @staticmethod
    def _play(reply: Reply, request: httpx.Request) -> httpx.Response:
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)


@pytest.fixture
def daraja() -> FakeDaraja:
    return FakeDaraja()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SAMPLE_INSTANT)


@pytest.fixture
def credentials() -> DarajaCredentials:
    return DarajaCredentials(
        base_url=SANDBOX_URL,
        consumer_key="test-consumer-key",
        consumer_secret="test-consumer-secret",
        shortcode=SANDBOX_SHORTCODE,
        passkey=SANDBOX_PASSKEY,
    )


@pytest.fixture
def http(daraja: FakeDaraja) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(daraja)) as client:
        yield client


@pytest.fixture
def client(credentials: DarajaCredentials, http: httpx.Client, clock: FixedClock) -> DarajaClient:
    return DarajaClient(credentials, http, clock)
