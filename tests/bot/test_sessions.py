"""Session stores: the embedded one and real Redis behave the same."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from bot.sessions import MemoryStore, RedisStore, SessionBusy


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def store(request: pytest.FixtureRequest) -> Any:
    if request.param == "memory":
        return MemoryStore()
    return request.getfixturevalue("redis_store")


def test_save_and_load_round_trip(store: Any) -> None:
    with store.locked("k1") as slot:
        assert slot.data is None
        slot.save({"flow": "menu", "n": 1}, ttl=60)
    with store.locked("k1") as slot:
        assert slot.data == {"flow": "menu", "n": 1}
    assert store.get("k1") == {"flow": "menu", "n": 1}


def test_ttl_expires(store: Any) -> None:
    with store.locked("k2") as slot:
        slot.save({"a": 1}, ttl=1)
    time.sleep(1.2)
    assert store.get("k2") is None


def test_delete(store: Any) -> None:
    with store.locked("k3") as slot:
        slot.save({"a": 1}, ttl=60)
    with store.locked("k3") as slot:
        slot.delete()
    assert store.get("k3") is None


def test_lock_serialises_read_modify_write(store: Any) -> None:
    """20 threads incrementing one counter through the lock lose no update."""

    def bump() -> None:
        with store.locked("counter") as slot:
            value = (slot.data or {"n": 0})["n"]
            time.sleep(0.001)
            slot.save({"n": value + 1}, ttl=60)

    threads = [threading.Thread(target=bump) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get("counter") == {"n": 20}


def test_first_time_is_atomic(store: Any) -> None:
    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(store.first_time("wa", "wamid.1"))) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1
    assert store.first_time("wa", "wamid.2")


def test_busy_lock_gives_up(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.sessions

    monkeypatch.setattr(bot.sessions, "LOCK_WAIT_S", 0.2)
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with store.locked("busy"):
            held.set()
            release.wait(2)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(2)
    with pytest.raises(SessionBusy), store.locked("busy"):
        pass
    release.set()
    holder.join()


@pytest.mark.redis
def test_redis_lock_does_not_release_someone_elses(redis_store: RedisStore) -> None:
    """A hop whose lock expired must not delete the lock a later hop now holds."""
    with redis_store.locked("x") as slot:
        redis_store.redis.set(f"{redis_store.prefix}:lock:x", "someone-else")
        slot.save({"v": 1}, ttl=60)
    assert redis_store.redis.get(f"{redis_store.prefix}:lock:x") == b"someone-else"


# -- alocked: the same lock on the event loop ------------------------------------------------


def test_alocked_round_trip_shares_keys_with_locked(store: Any) -> None:
    async def hop() -> None:
        async with store.alocked("a1") as slot:
            assert slot.data == {"from": "sync"}
            slot.save({"from": "async"}, ttl=60)

    with store.locked("a1") as slot:
        slot.save({"from": "sync"}, ttl=60)
    asyncio.run(hop())
    with store.locked("a1") as slot:
        assert slot.data == {"from": "async"}


def test_alocked_hops_on_one_loop_lose_no_update(store: Any) -> None:
    """50 concurrent tasks each read, bump and save one counter; none overwrites another."""

    async def bump() -> None:
        async with store.alocked("acounter") as slot:
            value = (slot.data or {"n": 0})["n"]
            slot.save({"n": value + 1}, ttl=60)

    async def main() -> None:
        await asyncio.gather(*(bump() for _ in range(50)))
        await store.aclose()

    asyncio.run(main())
    assert store.get("acounter") == {"n": 50}


def test_alocked_gives_up_on_a_lock_held_elsewhere(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.sessions

    monkeypatch.setattr(bot.sessions, "LOCK_WAIT_S", 0.2)

    async def hop() -> None:
        async with store.alocked("abusy"):
            pass

    with store.locked("abusy"), pytest.raises(SessionBusy):
        asyncio.run(hop())


def test_alocked_releases_the_lock_when_the_hop_fails(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.sessions

    monkeypatch.setattr(bot.sessions, "LOCK_WAIT_S", 0.2)

    async def failing() -> None:
        async with store.alocked("afail") as slot:
            assert slot.data == {"kept": True}
            raise RuntimeError("flow blew up before saving")

    with store.locked("afail") as slot:
        slot.save({"kept": True}, ttl=60)
    with pytest.raises(RuntimeError):
        asyncio.run(failing())
    with store.locked("afail") as slot:  # not left locked (SessionBusy otherwise), nothing changed
        assert slot.data == {"kept": True}


@pytest.mark.redis
def test_alocked_reloads_scripts_redis_forgot(redis_store: RedisStore) -> None:
    async def hop(value: int) -> None:
        async with redis_store.alocked("flushed") as slot:
            slot.save({"v": value}, ttl=60)

    asyncio.run(hop(1))
    redis_store.redis.script_flush()
    asyncio.run(hop(2))
    assert redis_store.get("flushed") == {"v": 2}


@pytest.mark.redis
def test_a_burst_of_hops_beyond_the_connection_pool_waits_rather_than_fails(redis_store: RedisStore) -> None:
    """300 hops at once on one loop: more than the pool's connections, and none is refused."""
    from bot.aredis import MAX_CONNECTIONS

    async def hop(i: int) -> None:
        async with redis_store.alocked(f"burst{i}") as slot:
            await asyncio.sleep(0.01)  # the flow's step, with Redis connections all in use
            slot.save({"i": i}, ttl=60)

    async def main() -> None:
        await asyncio.gather(*(hop(i) for i in range(6 * MAX_CONNECTIONS)))
        await redis_store.aclose()

    asyncio.run(main())
    assert all(redis_store.get(f"burst{i}") == {"i": i} for i in range(6 * MAX_CONNECTIONS))
