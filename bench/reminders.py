"""Benchmark: plan and render reminders for many members, dispatch them in batches, deliver a sample via the sandbox.

    .venv/bin/python bench/reminders.py                      # 100,000 members, SQLite file
    .venv/bin/python bench/reminders.py --members 2000       # small
    .venv/bin/python bench/reminders.py --db postgresql+psycopg://postgres@127.0.0.1:5432/bench

Seeds (bulk inserts, not timed) one organisation with N members, each with a loan whose first
installment is due on the benchmark day (10% of them already paid it, 2% opted out), then times:

1. ``plan``: the planner for that day (due items, paid checks, rendering, insert-if-absent);
2. a second ``plan`` (the idempotent rerun: nothing new);
3. ``dispatch``: claiming the due reminders and queueing delivery jobs (counted, not run);
4. delivering ``--sample`` messages through the real Africa's Talking sender against the
   provider sandbox (in process), for the per-message cost of the sending path.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text  # noqa: E402
from sqlmodel import SQLModel  # noqa: E402

import core.tables  # noqa: E402, F401
from core import loans, orgs, quiet_hours, reminders  # noqa: E402
from core.clock import FixedClock  # noqa: E402
from core.tables import (  # noqa: E402
    Account,
    AccountKind,
    Installment,
    LedgerEntry,
    LedgerTransaction,
    Loan,
    Member,
    Organisation,
)
from core.tables.ledger import account_scope
from core.uow import UnitOfWork, make_engine  # noqa: E402

DAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # 09:00 in Nairobi


def seed(db: Any, members: int) -> Organisation:
    with UnitOfWork(db) as uow:
        org = orgs.create_org(uow, "Bench SACCO", slug="bench")
        uow.commit()
    assert org.id is not None
    conn_rows: dict[str, list[dict[str, Any]]] = {"member": [], "loan": [], "installment": []}
    for i in range(members):
        conn_rows["member"].append(
            {
                "id": i + 1,
                "org_id": org.id,
                "phone": f"+2547{i:08d}",
                "member_no": f"M{i:07d}",
                "name": f"Member {i}",
                "role": "MEMBER",
                "language": "sw" if i % 3 == 0 else "en",
                "opted_out": i % 50 == 7,
                "active": True,
                "failed_pin_attempts": 0,
                "created_at": NOW,
            }
        )
        conn_rows["loan"].append(
            {
                "id": i + 1,
                "org_id": org.id,
                "member_id": i + 1,
                "reference": f"LN-{i:07d}",
                "principal": 800_000,
                "interest": 88_400,
                "status": "ACTIVE",
                "disbursed_on": DAY - timedelta(days=30),
                "created_at": NOW,
            }
        )
        for seq in (1, 2):
            conn_rows["installment"].append(
                {
                    "loan_id": i + 1,
                    "seq": seq,
                    "due_date": DAY + timedelta(days=30 * (seq - 1)),
                    "principal_due": 400_000,
                    "interest_due": 44_200,
                }
            )
    with db.begin() as conn:
        conn.execute(insert(Member), conn_rows["member"])
        conn.execute(insert(Loan), conn_rows["loan"])
        conn.execute(insert(Installment), conn_rows["installment"])
        _repayments(conn, org.id, [i + 1 for i in range(members) if i % 10 == 3])
        if db.dialect.name == "postgresql":
            for table in ("member", "loan", "installment"):
                conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
    return org


def _repayments(conn: Any, org_id: int, loan_ids: list[int]) -> None:
    """Each of ``loan_ids`` repaid its first installment (KES 4,442) by M-Pesa."""
    clearing = conn.execute(
        insert(Account)
        .values(org_id=org_id, kind=AccountKind.MPESA_CLEARING.name, created_at=NOW)
        .returning(Account.id)
    ).scalar_one()
    interest = conn.execute(
        insert(Account)
        .values(org_id=org_id, kind=AccountKind.INTEREST_INCOME.name, created_at=NOW)
        .returning(Account.id)
    ).scalar_one()
    accounts, txns, entries = [], [], []
    for n, loan_id in enumerate(loan_ids):
        account_id, txn_id = 10 + n, 1 + n
        accounts.append(
            {
                "id": account_id,
                "org_id": org_id,
                "member_id": loan_id,
                "loan_id": loan_id,
                "kind": AccountKind.LOAN_PRINCIPAL.name,
                "scope": account_scope(loan_id, loan_id),
                "created_at": NOW,
            }
        )
        txns.append(
            {
                "id": txn_id,
                "org_id": org_id,
                "kind": loans.REPAYMENT,
                "memo": "M-Pesa",
                "subject": f"loan:{loan_id}",
                "reference": f"R{n}",
                "created_at": NOW,
            }
        )
        entries += [
            {"transaction_id": txn_id, "account_id": clearing, "amount": 444_200},
            {"transaction_id": txn_id, "account_id": account_id, "amount": -400_000},
            {"transaction_id": txn_id, "account_id": interest, "amount": -44_200},
        ]
    if loan_ids:
        conn.execute(insert(Account), accounts)
        conn.execute(insert(LedgerTransaction), txns)
        conn.execute(insert(LedgerEntry), entries)


class CountingQueue:
    """Counts the jobs dispatch would put on RQ (and how many messages each carries)."""

    def __init__(self) -> None:
        self.jobs: list[int] = []

    def enqueue(self, func: Any, *args: Any, **_: Any) -> None:
        self.jobs.append(len(args[1]) if len(args) > 1 else 1)

    def enqueue_many(self, calls: Any) -> None:
        for _func, args in calls:
            self.jobs.append(len(args[1]))


def sandbox_delivery(db: Any, clock: FixedClock, ids: list[int]) -> dict[str, Any]:
    """Send ``ids`` through the real delivery path and Africa's Talking sender, the sandbox answering."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from bot.delivery import Delivery, DeliveryConfig
    from bot.outbound import ProviderSms
    from bot.sandbox import SandboxConfig, create_sandbox_app
    from channels.sms.africastalking import AfricasTalkingSender

    config = SandboxConfig(callback_delay_seconds=0, at_api_key="bench-key", outbox_limit=len(ids) + 10)
    app = create_sandbox_app(config)
    with warnings.catch_warnings(), TestClient(app, base_url="http://sandbox.local") as http:
        # TestClient as the sender's httpx client: it frowns on per-request timeouts, which the sender sets.
        warnings.filterwarnings("ignore", message=".*(timeout|httpx).*", category=Warning)
        sms = ProviderSms(AfricasTalkingSender(http, "sandbox", "bench-key", base_url="http://sandbox.local"), "JUMBE")

        class SandboxSenders:
            def whatsapp(self, org_id: int) -> None:
                return None

            def sms(self, org_id: int) -> ProviderSms:
                return sms

        delivery = Delivery(
            lambda: UnitOfWork(db),
            clock,
            CountingQueue(),
            SandboxSenders(),
            config=DeliveryConfig(rates={}),  # type: ignore[arg-type]
        )
        started = time.perf_counter()
        tally = delivery.deliver("reminder", ids)
        elapsed = time.perf_counter() - started
        outbox = len(app.state.sandbox.outbox.items())
    return {
        "messages": len(ids),
        "seconds": round(elapsed, 2),
        "per_second": round(len(ids) / elapsed, 1),
        "states": dict(tally),
        "sandbox_outbox": outbox,
    }


def run(members: int, db_url: str | None, sample: int) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="jumbe-bench-")
    url = db_url or f"sqlite:///{tmp}/bench.db"
    db = make_engine(url)
    if db.dialect.name == "postgresql":
        with db.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    SQLModel.metadata.create_all(db)
    t0 = time.perf_counter()
    org = seed(db, members)
    seeded = time.perf_counter() - t0

    started = time.perf_counter()
    with UnitOfWork(db) as uow:
        first = reminders.plan(uow, org, DAY, NOW)
    plan_s = time.perf_counter() - started
    started = time.perf_counter()
    with UnitOfWork(db) as uow:
        again = reminders.plan(uow, org, DAY, NOW)
    replan_s = time.perf_counter() - started

    from bot.delivery import Delivery, DeliveryConfig

    clock = FixedClock(quiet_hours.next_allowed(org, NOW))
    queue = CountingQueue()
    delivery = Delivery(lambda: UnitOfWork(db), clock, queue, None, config=DeliveryConfig(rates={}))  # type: ignore[arg-type]
    started = time.perf_counter()
    queued = delivery.dispatch()
    dispatch_s = time.perf_counter() - started

    with UnitOfWork(db) as uow:
        ids = [
            int(i)
            for (i,) in uow.session.connection().execute(text(f"SELECT id FROM reminder ORDER BY id LIMIT {sample}"))
        ]
    sent = sandbox_delivery(db, clock, ids) if sample else {}
    db.dispose()
    return {
        "members": members,
        "database": db.dialect.name,
        "seed_seconds": round(seeded, 1),
        "plan": {
            "candidates": first.candidates,
            "inserted": first.inserted,
            "opted_out": first.skipped_opted_out,
            "seconds": round(plan_s, 2),
            "reminders_per_second": round(first.inserted / plan_s),
        },
        "replan": {"inserted": again.inserted, "seconds": round(replan_s, 2)},
        "dispatch": {
            "queued": queued["reminder"],
            "jobs": len(queue.jobs),
            "largest_job": max(queue.jobs, default=0),
            "seconds": round(dispatch_s, 2),
        },
        "sandbox_delivery_sample": sent,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--db", default=None, help="SQLAlchemy URL (default: a fresh SQLite file); the schema is reset")
    parser.add_argument("--sample", type=int, default=1000, help="messages delivered through the sandbox")
    args = parser.parse_args()
    print(json.dumps(run(args.members, args.db, args.sample), indent=2))


if __name__ == "__main__":
    main()
