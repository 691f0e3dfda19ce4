"""``jumbe webhooks sweep``: re-queue outbound webhook deliveries whose job was lost."""

from __future__ import annotations

import typer

app = typer.Typer(help="Outbound webhooks.", no_args_is_help=True)


@app.command("sweep")
def sweep() -> None:
    """Queue again every pending delivery long past its next attempt (e.g. after a Redis flush or a restart)."""
    from bot.bootstrap import bootstrap
    from bot.cli import _settings
    from bot.jobs.webhooks import sweep_webhooks

    container = bootstrap(_settings())
    try:
        count = sweep_webhooks()
    finally:
        container.close()
    print(f"re-queued {count} deliveries")
