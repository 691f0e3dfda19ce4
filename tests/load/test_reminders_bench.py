"""The reminders benchmark at a bounded size: plan + render, rerun, dispatch in batches, sandbox sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def _bench() -> Any:
    path = Path(__file__).resolve().parents[2] / "bench" / "reminders.py"
    spec = importlib.util.spec_from_file_location("bench_reminders", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_thousand_members(tmp_path: Path) -> None:
    result = _bench().run(2000, f"sqlite:///{tmp_path}/bench.db", sample=50)
    plan = result["plan"]
    assert (plan["candidates"], plan["inserted"], plan["opted_out"]) == (1760, 1760, 40)
    assert result["replan"]["inserted"] == 0
    assert result["dispatch"] == {**result["dispatch"], "queued": 1760, "jobs": 4, "largest_job": 500}
    assert plan["seconds"] < 30
    assert result["sandbox_delivery_sample"]["states"] == {"sent": 50}
    assert result["sandbox_delivery_sample"]["sandbox_outbox"] == 50
