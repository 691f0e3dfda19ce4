"""USSD hop benchmark: a balance check on Jumbe (Redis sessions) against bare Starlette.

Both servers run under uvicorn (1 worker, uvloop + httptools) on this machine and are loaded
by the same wrk command in the same run; we report medians of ``--runs`` runs and the ratio.

    .venv/bin/python bench/ussd_hop.py [--runs 3] [--duration 10] [--profile]
        [--db postgresql+psycopg://postgres@127.0.0.1:5432/bench] [--hop-threads 4]

Needs wrk (``apt-get install wrk``) and Redis at 127.0.0.1:6379 (database 14 is flushed).
``--db`` runs Jumbe on that database instead of a fresh SQLite file (its public schema is reset);
``--hop-threads`` sets ``JUMBE_HOP_THREADS`` (hops in threads instead of on the event loop).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import ROOT, free_port, serve, wrk_figures  # noqa: E402

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SESSIONS = 40_000


def prepare(db_url: str) -> tuple[int, int]:
    """Migrate and seed the demo; return the demo org id and the demo member's id."""
    from bot import demo
    from bot.migrate import upgrade
    from core import members
    from core.clock import SystemClock
    from core.uow import UnitOfWork, make_engine

    engine = make_engine(db_url)
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(db_url)
    with UnitOfWork(engine) as uow:
        org = demo.seed(uow, SystemClock())
        amina = members.find_by_phone(uow, org.id or 0, demo.MEMBER_PHONE)
    engine.dispose()
    assert org.id is not None and amina is not None and amina.id is not None
    return org.id, amina.id


def park_sessions(org_id: int, member_id: int) -> None:
    """Put SESSIONS conversations at the main menu with the PIN verified (a hop moves them on)."""
    import redis

    from bot.sessions import RedisStore
    from flows.conversation import Conversation

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    store = RedisStore(client)
    pipe = client.pipeline(transaction=False)
    for i in range(SESSIONS):
        phone = f"+2547{i:08d}"
        convo = Conversation(
            key=f"{org_id}:ussd:{phone}",
            org_id=org_id,
            channel="ussd",
            phone=phone,
            member_id=member_id,
            role="member",
            lang="en",
            flow="menu",
            state="choosing",
            authenticated_until=time.time() + 3600,
            provider_session=f"bench{i}",
            updated_at=time.time(),
        )
        pipe.set(store._k(convo.key), json.dumps(convo.to_json()), ex=3600)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    client.close()


def wrk(port: int, duration: int) -> dict[str, float]:
    env = {**os.environ, "BENCH_SESSIONS": str(SESSIONS)}
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            "-c50",
            f"-d{duration}s",
            "--latency",
            "-s",
            str(ROOT / "bench/ussd_hop.lua"),
            f"http://127.0.0.1:{port}/channels/africastalking/ussd",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return wrk_figures(out)


def profile(db_url: str) -> None:
    """Where the time of one hop goes, in-process (no HTTP): top functions by cumulative time."""
    import asyncio

    from bot.bootstrap import bootstrap
    from bot.routes.ussd import renderer
    from bot.settings import load
    from channels import ussd

    container = bootstrap(load(database_url=db_url, redis_url=REDIS_URL))
    hops = 2000

    async def run() -> float:
        started = time.perf_counter()
        for i in range(hops):
            form = {"sessionId": f"bench{i}", "serviceCode": "*384*1#", "phoneNumber": f"+2547{i:08d}", "text": "1"}
            turn = await container.engine.handle_async(ussd.parse_hop(form), renderer)
            renderer.render(turn.messages, page=turn.page, lang=turn.lang, can_go_back=turn.can_go_back)
        await container.store.aclose()
        return time.perf_counter() - started

    profiler = cProfile.Profile()
    profiler.enable()
    elapsed = asyncio.run(run())
    profiler.disable()
    print(f"\nin-process: {hops} balance hops, {elapsed / hops * 1e6:.0f} us per hop (no HTTP; under cProfile)\n")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(
        r"(engine|sessions|ledger|balances|loans|flows/|statemachine/statemachine|sqlalchemy/orm/session|redis/|ussd)",
        25,
    )
    container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="also profile hops in-process")
    parser.add_argument("--db", default=None, help="SQLAlchemy URL for Jumbe (default: a fresh SQLite file)")
    parser.add_argument("--hop-threads", type=int, default=0, help="JUMBE_HOP_THREADS for Jumbe (default 0)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    tmp = tempfile.mkdtemp(prefix="jumbe-bench-")
    db_url = args.db or f"sqlite:///{tmp}/bench.db"
    print(f"preparing the demo organisation and {SESSIONS} sessions ...", flush=True)
    org_id, member_id = prepare(db_url)
    env = {
        **os.environ,
        "JUMBE_DATABASE_URL": db_url,
        "JUMBE_REDIS_URL": REDIS_URL,
        "JUMBE_LOG_LEVEL": "WARNING",
        "JUMBE_HOP_THREADS": str(args.hop_threads),
        "PYTHONPATH": str(ROOT),
    }
    bare_port, jumbe_port = free_port(), free_port()
    results: dict[str, list[dict[str, float]]] = {"bare Starlette": [], "Jumbe balance hop": []}
    bare = serve("bench.bare_app:app", bare_port, env)
    jumbe = serve("bot.app:create_app()", jumbe_port, env)
    try:
        wrk(bare_port, 2)  # warm-up
        park_sessions(org_id, member_id)
        wrk(jumbe_port, 2)  # warm-up: first hops import and prepare what later ones reuse
        for _ in range(args.runs):
            results["bare Starlette"].append(wrk(bare_port, args.duration))
            park_sessions(org_id, member_id)  # fresh sessions: a hop leaves the menu for the balance screen
            results["Jumbe balance hop"].append(wrk(jumbe_port, args.duration))
            bare_rps, jumbe_rps = results["bare Starlette"][-1]["rps"], results["Jumbe balance hop"][-1]["rps"]
            p99 = results["Jumbe balance hop"][-1]["p99"]
            print(
                f"  run: bare {bare_rps:,.0f} req/s, Jumbe {jumbe_rps:,.0f} req/s (p99 {p99:.1f} ms) = {jumbe_rps / bare_rps:.1%}"
            )
    finally:
        for process in (bare, jumbe):
            process.send_signal(signal.SIGINT)
            process.wait(10)
    base = statistics.median(r["rps"] for r in results["bare Starlette"])
    print("\n| scenario | req/s | p50 ms | p99 ms | non-2xx | share of bare |")
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        rps = statistics.median(r["rps"] for r in rows)
        print(
            f"| {name} | {rps:,.0f} | {statistics.median(r['p50'] for r in rows):.1f} | "
            f"{statistics.median(r['p99'] for r in rows):.1f} | {int(sum(r['errors'] for r in rows))} | {rps / base:.1%} |"
        )
    if args.profile:
        park_sessions(org_id, member_id)
        profile(db_url)


if __name__ == "__main__":
    main()
