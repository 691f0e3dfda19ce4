"""WhatsApp webhook acknowledgement benchmark: Jumbe (verify + de-duplicate + durably queue) vs bare Starlette.

Both servers run under uvicorn (1 worker, uvloop + httptools) on this machine and are loaded by
the same wrk command in the same run with the same signed bodies (the recorded
``whatsapp_text.json`` shape, a unique message id per request). Jumbe checks the HMAC, parses the
payload, and in one Redis round trip sets the de-duplication key and writes the RQ job (no worker
runs, so every acknowledged webhook stays queued, and is counted after the run). The bare app
reads the body and answers 200. We report medians of ``--runs`` runs and the ratio.

    .venv/bin/python bench/webhook_ack.py [--runs 3] [--duration 10] [--connections 50]

Needs wrk (``apt-get install wrk``) and Redis at 127.0.0.1:6379 (database 12 is flushed).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
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

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
PAYLOAD = ROOT / "tests/channels/data/whatsapp/whatsapp_text.json"
SECRET = "sandbox-bench-app-secret"
QUEUE = "jumbe"
THREADS = 2


def write_bodies(folder: Path, per_thread: int) -> Path:
    """One file per wrk thread of ``signature<TAB>body`` lines, every message id unique."""
    template = json.loads(PAYLOAD.read_text())
    now = str(int(time.time()))
    for thread in range(THREADS):
        with (folder / f"bodies-{thread}.txt").open("w") as out:
            for i in range(per_thread):
                message = template["entry"][0]["changes"][0]["value"]["messages"][0]
                message["id"] = f"wamid.BENCH{thread}x{i:08d}"
                message["timestamp"] = now
                raw = json.dumps(template, separators=(",", ":"))
                signature = "sha256=" + hmac.new(SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
                out.write(f"{signature}\t{raw}\n")
    return folder / "bodies-"


def wrk(port: int, duration: int, connections: int, bodies: Path) -> dict[str, float]:
    env = {**os.environ, "BENCH_BODIES": str(bodies)}
    out = subprocess.run(
        ["wrk", f"-t{THREADS}", f"-c{connections}", f"-d{duration}s", "--latency", "-s",
         str(ROOT / "bench/webhook_ack.lua"), f"http://127.0.0.1:{port}/channels/whatsapp"],
        capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    return wrk_figures(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--bodies", type=int, default=60_000, help="unique signed bodies per wrk thread")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    import redis

    from bot.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="jumbe-webhook-bench-"))
    db_url = f"sqlite:///{tmp}/bench.db"
    upgrade(db_url)
    print(f"signing {args.bodies * THREADS:,} webhook bodies ...", flush=True)
    bodies = write_bodies(tmp, args.bodies)
    client = redis.Redis.from_url(REDIS_URL)
    env = {
        **os.environ,
        "JUMBE_DATABASE_URL": db_url,
        "JUMBE_REDIS_URL": REDIS_URL,
        "JUMBE_WHATSAPP_APP_SECRET": SECRET,
        "JUMBE_QUEUE_NAME": QUEUE,
        "JUMBE_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    bare_port, jumbe_port = free_port(), free_port()
    names = ("bare Starlette (read body, 200)", "Jumbe ack (HMAC + parse + dedupe + RQ job)")
    results: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    bare = serve("bench.bare_app:app", bare_port, env)
    jumbe = serve("bot.app:create_app()", jumbe_port, env)
    queued: list[tuple[int, int]] = []
    try:
        client.flushdb()
        wrk(bare_port, 2, args.connections, bodies)  # warm-up
        wrk(jumbe_port, 2, args.connections, bodies)
        for _ in range(args.runs):
            results[names[0]].append(wrk(bare_port, args.duration, args.connections, bodies))
            client.flushdb()  # the same ids are new again
            row = wrk(jumbe_port, args.duration, args.connections, bodies)
            results[names[1]].append(row)
            queued.append((int(client.llen(f"rq:queue:{QUEUE}")), int(row["requests"] - row["errors"])))
    finally:
        for process in (bare, jumbe):
            process.send_signal(signal.SIGINT)
            process.wait(10)
        client.flushdb()
        client.close()
    base = statistics.median(r["rps"] for r in results[names[0]])
    print(f"\nwrk -t{THREADS} -c{args.connections} -d{args.duration}s, median of {args.runs} runs\n")
    print("| scenario | req/s | p50 ms | p99 ms | non-2xx | share of bare |")
    print("|---|---|---|---|---|---|")
    for name, rows in results.items():
        rps = statistics.median(r["rps"] for r in rows)
        print(
            f"| {name} | {rps:,.0f} | {statistics.median(r['p50'] for r in rows):.1f} | "
            f"{statistics.median(r['p99'] for r in rows):.1f} | {int(sum(r['errors'] for r in rows))} | "
            f"{rps / base:.1%} |"
        )
    print("\njobs queued / webhooks wrk saw acknowledged, per run:", ", ".join(f"{q:,}/{a:,}" for q, a in queued))
    # wrk does not count the requests still in flight when it stops (at most one per connection).
    if any(not 0 <= q - a <= args.connections for q, a in queued):
        print("WARNING: every acknowledged webhook should be one queued job (raise --bodies if ids wrapped around)")


if __name__ == "__main__":
    main()
