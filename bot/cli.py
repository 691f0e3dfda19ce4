"""The ``jumbe`` command: serve, migrate, seed the demo, manage organisations, run workers."""

from __future__ import annotations

import logging

import typer
from rich.console import Console

from bot import cli_apikeys, cli_webhooks
from bot.cli_agents import agents_app
from bot.cli_payments import payments_app
from bot.cli_reminders import reminders_app, scheduler_command
from bot.settings import Settings, load

app = typer.Typer(help="Jumbe: conversational banking and sales over WhatsApp, USSD and SMS.", no_args_is_help=True)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(org_app, name="org")
app.add_typer(cli_apikeys.app, name="apikey")
app.add_typer(cli_webhooks.app, name="webhooks")
app.add_typer(payments_app, name="payments")
app.add_typer(agents_app, name="agents")
app.add_typer(reminders_app, name="reminders")
app.command("scheduler")(scheduler_command)
console = Console()


def _settings() -> Settings:
    settings = load()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from bot.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url, revision)
    console.print(f"database at [bold]{revision}[/bold]")


@org_app.command("create")
def org_create(
    name: str,
    currency: str = typer.Option("KES"),
    timezone: str = typer.Option("Africa/Nairobi"),
    language: str = typer.Option("en", help="Default language: en or sw."),
) -> None:
    """Create an organisation and print its slug (other commands take it as --org)."""
    from core import audit, orgs
    from core.errors import DomainError
    from core.uow import UnitOfWork, make_engine

    settings = _settings()
    with UnitOfWork(make_engine(settings.database_url)) as uow:
        try:
            org = orgs.create_org(uow, name, currency=currency.upper(), timezone=timezone, default_language=language)
        except DomainError as exc:
            console.print(f"[red]error[/red]: {exc.field or ''} {exc.message}")
            raise typer.Exit(2) from None
        audit.record(uow, org.id or 0, audit.CLI, "organisations.create", "organisations", org.id, {"name": name})
        uow.commit()
    print(org.slug)


def _serve(host: str, port: int, settings: Settings) -> None:
    from bot import serving
    from bot.app import create_app

    web = create_app(settings=settings)
    if settings.embedded:  # no Redis, no RQ cron: the planner and dispatcher run on a timer in here
        from bot.scheduler import EmbeddedScheduler

        EmbeddedScheduler(web.state.container.clock).start()
    serving.run(web, host=host, port=port, log_level=settings.log_level.lower())


@app.command()
def serve(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000)) -> None:
    """Serve the bot (and, in sandbox mode, the sandbox and simulator)."""
    _serve(host, port, _settings())


@app.command()
def demo(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8000)) -> None:
    """Migrate, seed the demo organisation (idempotent) and serve it with the sandbox."""
    from bot import demo as demo_data
    from bot.migrate import upgrade
    from core.clock import SystemClock
    from core.uow import UnitOfWork, make_engine

    environ = __import__("os").environ
    overrides: dict[str, object] = {}
    if "JUMBE_PUBLIC_URL" not in environ:
        overrides["public_url"] = f"http://{host}:{port}"
    if "JUMBE_SANDBOX_MANUAL_APPROVAL" not in environ:
        overrides["sandbox_manual_approval"] = True  # the simulator's phone prompt decides each payment
    settings = load(**overrides)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    upgrade(settings.database_url)
    db = make_engine(settings.database_url)
    with UnitOfWork(db) as uow:
        demo_data.seed(uow, SystemClock())
    db.dispose()
    base = f"http://{host}:{port}"
    console.print(f"""
[bold green]Jumbe demo is ready[/bold green]: Demo SACCO, sandbox providers, no credentials.

  Simulator:  [link]{base}/simulator[/link]   <- open this
  Outbox:     {base}/sandbox/sandbox-control/outbox
  Health:     {base}/healthz

Things to try in the simulator:
  * USSD: dial [bold]{demo_data.USSD_CODE}[/bold] as member {demo_data.MEMBER_PHONE}
    (PIN {demo_data.DEMO_PIN}): balances, statement, pay a loan installment.
  * The M-Pesa prompt pops up on the phone: enter any 4 digits, cancel,
    or let it time out; watch the ledger panel and the SMS thread.
  * WhatsApp: send "hi" and tap the buttons. SMS: send BAL.
  * Agent {demo_data.AGENT_PHONE} (PIN {demo_data.DEMO_PIN}) logs sales and pays collections.
  * Or with curl:
      curl -s {base}/channels/africastalking/ussd \\
        -d sessionId=s1 -d serviceCode='{demo_data.USSD_CODE}' \\
        -d phoneNumber={demo_data.MEMBER_PHONE} -d text=
""")
    _serve(host, port, settings)


@app.command("settings")
def settings_reference() -> None:
    """Print every JUMBE_* setting with its default and meaning (Markdown)."""
    from bot.settings_doc import markdown

    print(markdown())


@app.command()
def worker(burst: bool = typer.Option(False, help="Exit when the queue is empty.")) -> None:
    """Run an RQ worker (non-forking) with the scheduler, for delayed and periodic jobs."""
    settings = _settings()
    if settings.redis_url is None:
        console.print("[red]error[/red]: JUMBE_REDIS_URL is not set; the embedded mode runs jobs in the web process")
        raise typer.Exit(2)
    from rq import Queue, SimpleWorker

    from bot.bootstrap import bootstrap

    container = bootstrap(settings)
    queue = Queue(settings.queue_name, connection=container.redis)
    SimpleWorker([queue], connection=container.redis).work(with_scheduler=True, burst=burst)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
