"""``jumbe apikey create|list|revoke``: admin API keys from the command line (audited as ``cli``)."""

from __future__ import annotations

import typer
from rich.console import Console

from core import apikeys, audit, orgs
from core.clock import SystemClock
from core.errors import DomainError
from core.uow import UnitOfWork, make_engine

app = typer.Typer(help="Admin API keys.", no_args_is_help=True)
err = Console(stderr=True)


def _uow() -> UnitOfWork:
    from bot.cli import _settings

    return UnitOfWork(make_engine(_settings().database_url))


def _fail(exc: DomainError) -> typer.Exit:
    err.print(f"[red]error[/red]: {exc.field + ': ' if exc.field else ''}{exc.message}")
    return typer.Exit(2)


@app.command("create")
def create(
    org: str = typer.Option(..., "--org", help="The organisation's slug."),
    scopes: str = typer.Option(..., "--scopes", help="Comma-separated, e.g. members:read,payments:read (or admin)."),
    name: str = typer.Option(..., "--name", help="What the key is for, e.g. 'accounting sync'."),
) -> None:
    """Create a key and print it once: it is stored hashed and cannot be shown again."""
    with _uow() as uow:
        try:
            found = orgs.get_org(uow, org)
            assert found.id is not None
            key, token = apikeys.create(uow, found.id, name, apikeys.parse_scopes(scopes))
            uow.session.flush()
            audit.record(
                uow, found.id, audit.CLI, "api_keys.create", "api-keys", key.id, {"name": name, "scopes": scopes}
            )
        except DomainError as exc:
            raise _fail(exc) from None
        uow.commit()
    err.print(f"created key {key.prefix} for {org} with scopes {key.scopes}; store it now, it is not shown again:")
    print(token)


@app.command("list")
def list_keys(org: str = typer.Option(..., "--org", help="The organisation's slug.")) -> None:
    """List the organisation's keys (prefixes, never secrets)."""
    with _uow() as uow:
        try:
            found = orgs.get_org(uow, org)
        except DomainError as exc:
            raise _fail(exc) from None
        assert found.id is not None
        keys = apikeys.list_keys(uow, found.id)
    # One tab-separated line per key: readable, and easy to grep or cut in scripts.
    print("prefix\tname\tscopes\tcreated\tlast_used\trevoked")
    for key in keys:
        print(
            "\t".join(
                [
                    key.prefix,
                    key.name,
                    key.scopes,
                    f"{key.created_at:%Y-%m-%d %H:%M}",
                    f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "-",
                    f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "-",
                ]
            )
        )


@app.command("revoke")
def revoke(prefix: str = typer.Argument(..., help="The key's prefix, e.g. jk_live_ab12cd34.")) -> None:
    """Revoke a key at once; requests with it answer 401 from now on."""
    with _uow() as uow:
        try:
            key = apikeys.by_prefix(uow, prefix.strip())
        except DomainError as exc:
            raise _fail(exc) from None
        if not apikeys.revoke(key, SystemClock().now()):
            err.print(f"{key.prefix} was already revoked")
            return
        uow.session.add(key)
        audit.record(uow, key.org_id, audit.CLI, "api_keys.revoke", "api-keys", key.id, {"prefix": key.prefix})
        uow.commit()
    err.print(f"revoked {key.prefix}")
