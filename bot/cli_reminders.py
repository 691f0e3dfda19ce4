"""``jumbe reminders ...`` and ``jumbe scheduler``: plan (or preview) reminders, send, broadcast."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

reminders_app = typer.Typer(help="Reminders: plan, preview, send; broadcasts.", no_args_is_help=True)
console = Console()

SHOWN_ROWS = 50
"""A dry run lists this many rows; the totals always cover everything."""


def _container() -> Any:
    from bot.bootstrap import bootstrap
    from bot.cli import _settings

    return bootstrap(_settings())


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        console.print(f"[red]error[/red]: --date must be YYYY-MM-DD, not {value!r}")
        raise typer.Exit(2) from None


@reminders_app.command("run")
def run_command(
    day: str | None = typer.Option(None, "--date", help="Plan for this local date (YYYY-MM-DD); default today."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be planned; change nothing."),
    org: str | None = typer.Option(None, "--org", help="Only this organisation (slug)."),
    send: bool = typer.Option(True, "--send/--no-send", help="Queue what is due now after planning."),
) -> None:
    """Plan reminders (idempotent: a rerun adds only what is missing), then queue what is due."""
    from sqlmodel import col, select

    from core import quiet_hours, reminders
    from core.tables import Organisation

    container = _container()
    wanted = _day(day)
    try:
        now = container.clock.now()
        with container.uow() as uow:
            query = select(Organisation).order_by(col(Organisation.id))
            if org is not None:
                query = query.where(Organisation.slug == org)
            found = list(uow.session.exec(query))
        if not found:
            console.print(f"[red]error[/red]: no organisation {org!r}" if org else "no organisations")
            raise typer.Exit(2)
        with _progress() as progress:
            for organisation in found:
                target = wanted or quiet_hours.local_today(organisation, now)
                task = progress.add_task(f"{organisation.slug} {target}", total=None)

                def step(done: int, total: int, task: Any = task) -> None:
                    progress.update(task, completed=done, total=total)

                with container.uow() as uow:
                    result = reminders.plan(uow, organisation, target, now, dry_run=dry_run, progress=step)
                progress.update(task, completed=result.candidates, total=result.candidates or 1)
                progress.stop_task(task)
                if dry_run:
                    console.print(plan_table(result, organisation.currency))
                else:
                    console.print(
                        f"{organisation.slug} {target}: {result.inserted} new of {result.candidates} due, "
                        f"{result.skipped_opted_out} opted out"
                    )
        if send and not dry_run:
            queued = container.services["delivery"].dispatch()
            console.print(f"queued: {queued['reminder']} reminders, {queued['broadcast']} broadcast messages")
    finally:
        container.close()


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


def plan_table(result: Any, currency: str) -> Table:
    from core.money import format_amount

    new = sum(1 for row in result.rows if row["new"])
    table = Table(
        title=f"{result.org_slug} {result.day}: {result.candidates} due, {new} new, "
        f"{result.skipped_opted_out} opted out (dry run)",
        caption=f"first {SHOWN_ROWS} shown" if len(result.rows) > SHOWN_ROWS else None,
    )
    for column in ("member", "kind", "due", "occ", "amount", "send after (UTC)", "new", "message"):
        table.add_column(column, justify="right" if column in ("member", "amount", "occ") else "left")
    for row in result.rows[:SHOWN_ROWS]:
        table.add_row(
            str(row["member_id"]),
            str(row["target_kind"]),
            str(row["due_date"]),
            str(row["occurrence"]),
            format_amount(row["amount"], currency),
            f"{row['send_after']:%Y-%m-%d %H:%M}",
            "yes" if row["new"] else "no",
            row["body"][:60],
        )
    return table


@reminders_app.command("dispatch")
def dispatch_command() -> None:
    """Queue every reminder and broadcast message whose time has come."""
    container = _container()
    try:
        queued = container.services["delivery"].dispatch()
    finally:
        container.close()
    console.print(f"queued: {queued['reminder']} reminders, {queued['broadcast']} broadcast messages")


@reminders_app.command("summaries")
def summaries_command() -> None:
    """Create this week's officers' summary for each organisation (once a week) and queue it."""
    from bot.jobs import reminders as jobs

    container = _container()
    try:
        made = jobs.send_officer_summaries()
    finally:
        container.close()
    console.print(f"{made} summaries created")


@reminders_app.command("broadcast")
def broadcast_command(
    org: str = typer.Option(..., "--org", help="Organisation slug."),
    body_en: str = typer.Option(..., "--en", help="The message in English."),
    body_sw: str | None = typer.Option(None, "--sw", help="The message in Swahili (default: the English)."),
    audience: str = typer.Option("all", help="all, role or list."),
    role: str | None = typer.Option(None, help="member, agent or officer (with --audience role)."),
    members: str = typer.Option("", help="Comma-separated member ids (with --audience list)."),
) -> None:
    """Send an announcement (opted-out members skipped; at night it waits for the morning)."""
    from core import audit, broadcasts, orgs
    from core.errors import DomainError

    container = _container()
    try:
        ids = [int(part) for part in members.split(",") if part.strip().isdigit()]
        with container.uow() as uow:
            try:
                made = broadcasts.create(
                    uow,
                    orgs.get_org(uow, org),
                    audience=audience,
                    role=role,
                    member_ids=ids,
                    body_en=body_en,
                    body_sw=body_sw,
                    created_by="cli",
                    now=container.clock.now(),
                )
            except DomainError as exc:
                console.print(f"[red]error[/red]: {exc.field or ''} {exc.message}")
                raise typer.Exit(2) from None
            details = {"audience": audience, "recipients": made.recipients}
            audit.record(uow, made.org_id, audit.CLI, "broadcasts.create", "broadcasts", made.id, details)
            uow.commit()
        container.services["delivery"].dispatch()
    finally:
        container.close()
    console.print(f"broadcast {made.id}: {made.recipients} recipients, {made.skipped} opted out")


def scheduler_command() -> None:
    """Run the RQ cron scheduler: hourly planner, dispatcher every minute, Monday summaries."""
    from bot import scheduler
    from bot.cli import _settings

    settings = _settings()
    if settings.redis_url is None:
        console.print("[red]error[/red]: JUMBE_REDIS_URL is not set; embedded mode schedules inside `jumbe serve`")
        raise typer.Exit(2)
    container = _container()
    scheduler.run_rq(container.redis, settings.queue_name)
