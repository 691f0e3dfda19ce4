"""Bearer keys: 401 without or with a bad key, 403 without the scope, keys hashed and revocable."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bot.bootstrap import Container
from core import apikeys
from core.clock import FixedClock
from core.tables import ApiKey, AuditLog
from core.uow import UnitOfWork
from tests.admin_api.conftest import Caller


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer jk_live_nosuchkey_abcdef",
        "Bearer " + "x" * 500,
        "Bearer jk_live_ünïcode".encode("latin-1"),
    ],
)
def test_missing_or_bad_key_is_401(client: TestClient, demo_org: Any, header: str | bytes | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/admin/v1/members", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_valid_key_works_and_records_last_use(admin: Caller, container: Container) -> None:
    assert admin.get("/members").status_code == 200
    with UnitOfWork(container.db) as uow:
        key = uow.session.exec(select(ApiKey)).all()[-1]
    assert key.last_used_at is not None


def test_keys_are_stored_hashed_with_a_visible_prefix(admin: Caller, container: Container) -> None:
    assert admin.token is not None
    with UnitOfWork(container.db) as uow:
        rows = uow.session.exec(select(ApiKey)).all()
    assert all(admin.token not in (row.key_hash, row.prefix, row.name) for row in rows)
    assert any(admin.token.startswith(row.prefix + "_") for row in rows)


def test_a_near_miss_is_refused(admin: Caller, client: TestClient) -> None:
    assert admin.token is not None
    wrong = admin.token[:-1] + ("A" if admin.token[-1] != "A" else "B")
    assert Caller(client, wrong).get("/members").status_code == 401


def test_missing_scope_is_403_and_names_it(caller: Any) -> None:
    reader = caller("members:read")
    assert reader.get("/members").status_code == 200
    refused = reader.post("/members", json={"phone": "0712000001", "name": "X"})
    assert refused.status_code == 403
    assert refused.json()["error"] == {
        "code": "forbidden",
        "message": "this key lacks the 'members:write' scope",
        "field": "scope",
    }
    assert reader.get("/loans").status_code == 403
    assert reader.get("/api-keys").status_code == 403


def test_admin_scope_holds_every_scope(admin: Caller) -> None:
    for path in ("/members", "/loans", "/webhooks", "/audit-log", "/dashboard", "/api-keys"):
        assert admin.get(path).status_code == 200, path


def test_revoked_key_is_401_at_once(admin: Caller, caller: Any) -> None:
    victim = caller("members:read")
    assert victim.get("/members").status_code == 200
    listed = admin.get("/api-keys").json()["data"]
    key_id = next(k["id"] for k in listed if victim.token.startswith(k["prefix"]))
    revoked = admin.post(f"/api-keys/{key_id}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert victim.get("/members").status_code == 401


def test_create_key_by_api_shows_secret_once(admin: Caller, client: TestClient) -> None:
    created = admin.post("/api-keys", json={"name": "accounting", "scopes": ["payments:read", "members:read"]})
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["prefix"] + "_")
    assert body["scopes"] == ["members:read", "payments:read"]
    assert Caller(client, body["key"]).get("/members").status_code == 200
    listed = admin.get("/api-keys").json()["data"]
    assert all("key" not in item for item in listed)


def test_unknown_scope_is_422(admin: Caller) -> None:
    response = admin.post("/api-keys", json={"name": "x", "scopes": ["members:delete"]})
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "scopes"


def test_verify_takes_the_same_path_for_unknown_prefixes(container: Container, clock: FixedClock) -> None:
    with UnitOfWork(container.db) as uow:
        assert apikeys.verify(uow, "jk_live_00000000_" + "a" * 43, clock.now()) is None
        assert apikeys.verify(uow, None, clock.now()) is None


def test_cli_creates_lists_and_revokes_keys_with_audit(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app
    from bot.migrate import upgrade
    from core import orgs

    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("JUMBE_DATABASE_URL", url)
    upgrade(url)
    from core.uow import make_engine

    engine = make_engine(url)
    with UnitOfWork(engine) as uow:
        orgs.create_org(uow, "CLI SACCO", slug="cli")
        uow.commit()
    runner = CliRunner()
    created = runner.invoke(app, ["apikey", "create", "--org", "cli", "--scopes", "members:read", "--name", "sync"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("jk_live_")
    listed = runner.invoke(app, ["apikey", "list", "--org", "cli"])
    assert listed.exit_code == 0 and token[:16] in listed.stdout and token not in listed.stdout
    bad = runner.invoke(app, ["apikey", "create", "--org", "cli", "--scopes", "nope", "--name", "x"])
    assert bad.exit_code == 2
    revoked = runner.invoke(app, ["apikey", "revoke", token[:16]])
    assert revoked.exit_code == 0, revoked.output
    with UnitOfWork(engine) as uow:
        assert apikeys.verify(uow, token, clock.now()) is None
        trail = uow.session.exec(select(AuditLog).order_by(AuditLog.id)).all()  # type: ignore[arg-type]
    assert [(row.actor, row.action) for row in trail] == [("cli", "api_keys.create"), ("cli", "api_keys.revoke")]
    engine.dispose()
