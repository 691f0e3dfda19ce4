"""The simulator is a sandbox-mode developer tool: its HTTP tests run on the embedded shape only.

(The ledger view it reads is checked on PostgreSQL too, in test_ledger_view.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import SQLModel

from bot.sessions import MemoryStore
from core.uow import make_engine


@pytest.fixture
def backend(tmp_path: Any) -> Iterator[tuple[DbEngine, Any]]:
    engine = make_engine(f"sqlite:///{tmp_path}/app.db")
    SQLModel.metadata.create_all(engine)
    yield engine, MemoryStore()
    engine.dispose()
