"""``jumbe payments ...``: reconcile stragglers, list payments held for review, resolve one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

payments_app = typer.Typer(help="M-Pesa payments: reconcile and review.", no_args_is_help=True)
console = Console()


if TYPE_CHECKING:
    from bot.bootstrap import Container
    from core.payment_status import StatusCheck


@contextmanager
def _container() -> Iterator[Container]:
    """The process's container from the environment, closed afterwards."""
    from bot.bootstrap import bootstrap
    from bot.cli import _settings

    container = bootstrap(_settings())
    try:
        yield container
    finally:
        container.close()


@payments_app.command("reconcile")
def reconcile_command(
    older_than: int = typer.Option(5, "--older-than", min=0, help="Minutes since the payment was started."),
    limit: int = typer.Option(500, min=1, max=10_000, help="At most this many payments per run."),
) -> None:
    """Query M-Pesa for payments still PENDING / UNKNOWN (and end abandoned ones); print a report."""
    from core.payment_status import reconcile

    with _container() as container:
        now = container.clock.now()
        checks = reconcile(
            container.uow,
            container.services["payment_gateway"],
            now,
            older_than=now - timedelta(minutes=older_than),
            limit=limit,
        )
    console.print(report_table(checks))


def report_table(checks: list[StatusCheck]) -> Table:
    from collections import Counter

    table = Table(title=f"Reconciled {len(checks)} payment(s)")
    for column in ("payment", "org", "member", "amount", "before", "after", "action", "detail"):
        table.add_column(column, justify="right" if column in ("payment", "amount") else "left")
    for check in checks:
        table.add_row(
            str(check.payment_id),
            str(check.org_id),
            str(check.member_id),
            f"{check.amount / 100:,.2f}",
            check.before,
            check.after,
            check.action,
            check.detail[:40],
        )
    totals = Counter(check.action for check in checks)
    table.caption = ", ".join(f"{action}: {count}" for action, count in sorted(totals.items())) or "nothing to do"
    return table


@payments_app.command("review")
def review_command(org: str = typer.Option("", help="Only this organisation (slug).")) -> None:
    """List payments held or flagged for an operator, oldest first."""
    from core import orgs, payments

    with _container() as container, container.uow() as uow:
        org_id = orgs.get_org(uow, org).id if org else None
        rows = payments.for_review(uow, org_id)
    table = Table(title=f"{len(rows)} payment(s) to review")
    for column in ("payment", "created", "member", "purpose", "amount", "paid", "receipt", "state", "reason"):
        table.add_column(column)
    for p in rows:
        table.add_row(
            str(p.id),
            f"{p.created_at:%Y-%m-%d %H:%M}",
            str(p.member_id),
            str(p.purpose),
            f"{p.amount / 100:,.2f}",
            "" if p.paid_amount is None else f"{p.paid_amount / 100:,.2f}",
            p.mpesa_receipt or "",
            str(p.state),
            p.review_reason or "",
        )
    console.print(table)


@payments_app.command("resolve")
def resolve_command(
    payment_id: int,
    action: str = typer.Option(..., help="credit (the money is real: credit it) or dismiss (nothing to credit)."),
    note: str = typer.Option(..., help="What you checked, e.g. 'M-Pesa statement 12/11, receipt SBX...'."),
    org: str = typer.Option(..., help="The payment's organisation (slug)."),
) -> None:
    """Resolve a payment held for review (see docs/payments.md)."""
    from core import audit, orgs
    from core.errors import DomainError
    from core.payment_review import resolve

    with _container() as container, container.uow() as uow:
        try:
            found = orgs.get_org(uow, org)
            payment = resolve(uow, found.id or 0, payment_id, action=action, note=note, now=container.clock.now())
        except DomainError as exc:
            console.print(f"[red]error[/red]: {exc.field or ''} {exc.message}")
            raise typer.Exit(2) from None
        details = {"action": action, "note": note}
        audit.record(uow, found.id or 0, audit.CLI, "payments.resolve", "payments", payment.id, details)
        uow.commit()
    console.print(f"payment {payment.id}: {payment.state}, review cleared")
