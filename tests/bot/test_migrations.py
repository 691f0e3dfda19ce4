"""Alembic migrations create exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import core.tables  # noqa: F401
from bot.migrate import upgrade
from core.uow import make_engine
from tests.conftest import POSTGRES_URL, empty_schema, postgres_engine


def _diff(engine: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(compare_metadata(MigrationContext.configure(conn), SQLModel.metadata))


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url)
    engine = make_engine(url)
    assert _diff(engine) == []
    engine.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_models() -> None:
    engine = postgres_engine()
    empty_schema(engine)
    upgrade(POSTGRES_URL)
    assert _diff(engine) == []
    engine.dispose()


def test_import_contracts_hold() -> None:
    """The import direction of design.md (import-linter contracts in pyproject.toml)."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert result.returncode == 0, result.stdout[-3000:]
