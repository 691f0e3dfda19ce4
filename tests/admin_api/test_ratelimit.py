"""Per-key token buckets: 429 with Retry-After once a key's burst is spent, refilled over time."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from admin_api.ratelimit import MemoryBuckets, RedisBuckets, retry_after
from bot.bootstrap import Container
from core.tables import Organisation
from tests.admin_api.conftest import Caller, make_key


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    tick = Ticker()
    buckets = MemoryBuckets(rate=2, burst=3, clock=tick)
    assert [buckets.take("k") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("k") == pytest.approx(0.5)
    assert buckets.take("other") == 0  # every key has its own bucket
    tick.now += 0.5
    assert buckets.take("k") == 0
    assert buckets.take("k") > 0
    tick.now += 100
    assert [buckets.take("k") for _ in range(3)] == [0, 0, 0]


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    assert [retry_after(w) for w in (0.01, 1.0, 1.2, 7.9)] == ["1", "1", "2", "8"]


def test_forgets_old_keys_beyond_its_bound() -> None:
    buckets = MemoryBuckets(rate=1, burst=1, clock=Ticker(), max_keys=2)
    for key in ("a", "b", "c"):
        buckets.take(key)
    assert len(buckets._buckets) == 2


@pytest.fixture
def tight_client(container: Container, demo_org: Organisation) -> Iterator[TestClient]:
    from bot.app import create_app

    container.settings = container.settings.model_copy(update={"admin_rate_per_second": 0.5, "admin_rate_burst": 3})
    with TestClient(create_app(container)) as client:
        yield client


def test_api_answers_429_with_retry_after(tight_client: TestClient, container: Container) -> None:
    first = Caller(tight_client, make_key(container, 1))
    second = Caller(tight_client, make_key(container, 1))
    assert [first.get("/members").status_code for _ in range(3)] == [200, 200, 200]
    limited = first.get("/members")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["error"]["code"] == "rate_limited"
    assert second.get("/members").status_code == 200  # per key, not global


@pytest.mark.redis
def test_redis_buckets_are_shared_between_processes(redis_client: Any) -> None:
    one = RedisBuckets(redis_client, rate=0.1, burst=2, prefix="test:rl:")
    two = RedisBuckets(redis_client, rate=0.1, burst=2, prefix="test:rl:")
    assert one.take("key") == 0
    assert two.take("key") == 0
    wait = one.take("key")
    assert 9 < wait <= 10
    assert two.take("other") == 0
    assert 0 < redis_client.pttl("test:rl:key") <= 21_000
