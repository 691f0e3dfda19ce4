"""Every write an operator makes with the `jumbe` command leaves an audit row (actor "cli")."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from bot.cli import app
from bot.migrate import upgrade
from core.tables.admin import AuditLog
from core.uow import UnitOfWork, make_engine


def test_operator_writes_are_audited(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    monkeypatch.setenv("JUMBE_DATABASE_URL", url)
    upgrade(url)
    runner = CliRunner()
    steps = [
        ["org", "create", "Kilimo SACCO"],
        ["agents", "add-product", "--org", "kilimo-sacco", "--code", "SOAP", "--name", "Soap", "--price", "50"],
        ["agents", "commission", "--org", "kilimo-sacco", "--percent", "2.5"],
    ]
    for step in steps:
        result = runner.invoke(app, step)
        assert result.exit_code == 0, (step, result.output)
    engine = make_engine(url)
    with UnitOfWork(engine) as uow:
        trail = uow.session.exec(select(AuditLog).order_by(col(AuditLog.id))).all()
    engine.dispose()
    assert [(row.actor, row.action) for row in trail] == [
        ("cli", "organisations.create"),
        ("cli", "products.create"),
        ("cli", "commission.set"),
    ]
