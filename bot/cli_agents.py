"""``jumbe agents ...``: catalogue, commission, collections and voids from the command line."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from core import audit
from core.errors import DomainError

agents_app = typer.Typer(help="Agents: products, commission, collections, voids.", no_args_is_help=True)
console = Console()


def _db() -> Engine:
    from bot.cli import _settings
    from core.uow import make_engine

    return make_engine(_settings().database_url)


def _fail(exc: DomainError) -> None:
    console.print(f"[red]error[/red]: {exc.field or ''} {exc.message}")
    raise typer.Exit(2)


@agents_app.command("add-product")
def add_product(
    org: str = typer.Option(..., help="Organisation slug."),
    code: str = typer.Option(..., help="SMS short code, e.g. SUGAR1KG."),
    name: str = typer.Option(...),
    price: int = typer.Option(..., min=1, help="Unit price in whole currency units."),
    stock: int | None = typer.Option(None, min=0, help="Units on hand; omit to not track stock."),
    low: int = typer.Option(0, min=0, help="Low-stock alert threshold."),
) -> None:
    """Add a product to the organisation's catalogue."""
    from core import catalogue, money, orgs
    from core.uow import UnitOfWork

    with UnitOfWork(_db()) as uow:
        try:
            found = orgs.get_org(uow, org)
            minor = price * money.minor_per_unit(found.currency)
            product = catalogue.add_product(
                uow, found, name=name, short_code=code, unit_price=minor, stock=stock, low_stock_threshold=low
            )
        except DomainError as exc:
            _fail(exc)
        audit.record(uow, found.id or 0, audit.CLI, "products.create", "products", product.id, {"code": code})
        uow.commit()
    console.print(f"added {product.short_code} ({product.name})")


@agents_app.command("commission")
def set_commission(
    org: str = typer.Option(..., help="Organisation slug."),
    percent: str = typer.Option(..., help="Percentage with at most two decimals, e.g. 5 or 2.5."),
    code: str | None = typer.Option(None, help="A product's short code; omit for the default rule."),
) -> None:
    """Set the default commission, or one product's own."""
    from core import catalogue, orgs
    from core.uow import UnitOfWork

    whole, _, fraction = percent.strip().partition(".")
    if not whole.isdigit() or not (fraction == "" or (fraction.isdigit() and len(fraction) <= 2)):
        console.print("[red]error[/red]: percent such as 5 or 2.5")
        raise typer.Exit(2)
    basis_points = int(whole) * 100 + int((fraction or "0").ljust(2, "0"))
    with UnitOfWork(_db()) as uow:
        try:
            found = orgs.get_org(uow, org)
            product_id = None
            if code:
                product = catalogue.find_by_code(uow, found.id or 0, code)
                if product is None:
                    console.print(f"[red]error[/red]: no product {code}")
                    raise typer.Exit(2)
                product_id = product.id
            catalogue.set_commission(uow, found.id or 0, basis_points, product_id)
        except DomainError as exc:
            _fail(exc)
        details = {"basis_points": basis_points, "product_id": product_id}
        audit.record(uow, found.id or 0, audit.CLI, "commission.set", "commission-rules", product_id, details)
        uow.commit()
    console.print(f"commission {basis_points / 100:.2f}% {'for ' + code.upper() if code else 'by default'}")


@agents_app.command("collect")
def generate(org: str = typer.Option(..., help="Organisation slug.")) -> None:
    """Turn every agent's uncollected cash into a collection now (what the daily job does)."""
    from core import collections, money, orgs
    from core.clock import SystemClock
    from core.uow import UnitOfWork

    with UnitOfWork(_db()) as uow:
        found = orgs.get_org(uow, org)
        today = SystemClock().now().astimezone(ZoneInfo(found.timezone)).date()
        made = collections.generate_for_org(uow, found, today)
        for c in made:
            audit.record(
                uow, found.id or 0, audit.CLI, "collections.generate", "collections", c.id, {"amount": c.amount}
            )
        uow.commit()
    table = Table("reference", "agent", "amount", "due")
    for c in made:
        table.add_row(c.reference, str(c.agent_id), money.format_amount(c.amount, found.currency), str(c.due_date))
    console.print(table if made else "no uncollected cash")


@agents_app.command("owe")
def create_collection(
    org: str = typer.Option(..., help="Organisation slug."),
    agent_phone: str = typer.Option(..., "--agent", help="The agent's phone."),
    amount: int = typer.Option(..., min=1, help="Whole currency units."),
    days: int = typer.Option(3, min=0, help="Due in this many days."),
) -> None:
    """Ask an agent for an amount (a collection)."""
    from core import collections, members, money, orgs, phones
    from core.uow import UnitOfWork

    with UnitOfWork(_db()) as uow:
        try:
            found = orgs.get_org(uow, org)
            agent = members.find_by_phone(uow, found.id or 0, phones.normalise(agent_phone))
            if agent is None or agent.id is None:
                console.print("[red]error[/red]: no such agent")
                raise typer.Exit(2)
            minor = amount * money.minor_per_unit(found.currency)
            made = collections.create_collection(
                uow, found, agent.id, minor, date.today() + timedelta(days=days), created_by="cli"
            )
        except DomainError as exc:
            _fail(exc)
        audit.record(uow, found.id or 0, audit.CLI, "collections.create", "collections", made.id, {"amount": minor})
        uow.commit()
    console.print(f"{made.reference} due {made.due_date}")


@agents_app.command("void")
def void(
    org: str = typer.Option(..., help="Organisation slug."),
    reference: str = typer.Argument(..., help="The sale's reference, e.g. S-000123."),
    reason: str = typer.Option("", help="Why (kept on the sale)."),
) -> None:
    """Void a sale: its postings are reversed and its stock returned; nothing is deleted."""
    from core import orgs, sales
    from core.clock import SystemClock
    from core.uow import UnitOfWork

    with UnitOfWork(_db()) as uow:
        try:
            found = orgs.get_org(uow, org)
            sale = sales.find_by_reference(uow, found.id or 0, reference)
            if sale is None or sale.id is None:
                console.print(f"[red]error[/red]: no sale {reference}")
                raise typer.Exit(2)
            voided = sales.void_sale(uow, found.id or 0, sale.id, by="cli", reason=reason, now=SystemClock().now())
        except DomainError as exc:
            _fail(exc)
        audit.record(uow, found.id or 0, audit.CLI, "sales.void", "sales", voided.id, {"reason": reason})
        uow.commit()
    console.print(f"voided {voided.reference}")
