"""Property-based run of /admin/v1/openapi.json with schemathesis: no 500s, no answer outside the schema.

One app per module (building one costs more than fuzzing an operation), each operation of the
route table fuzzed in positive and negative mode with a handful of cases: ids drawn at random
(mostly 404) and ids that exist (so the success path is fuzzed too). Well under a minute in all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from admin_api.openapi import PREFIX
from admin_api.operations import Operation
from admin_api.routes import ROUTE_TABLE
from bot import demo
from bot.settings import Settings
from core import apikeys
from core.clock import FixedClock
from core.uow import UnitOfWork, make_engine
from tests.admin_api.conftest import PRODUCTION, build_other_org
from tests.conftest import fresh_schema, make_container, postgres_engine

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES = int(os.environ.get("JUMBE_TEST_FUZZ_EXAMPLES", "6"))
"""Cases per operation and mode; raise it for a deeper local run (CI keeps the default)."""


@dataclass
class Fuzz:
    schema: Any
    token: str
    known: dict[str, int]


@pytest.fixture(scope="module", params=["embedded", PRODUCTION])
def fuzz(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    """SQLite and PostgreSQL (stricter: NUL bytes, lengths, integer ranges are its errors, not SQLite's)."""
    from bot.app import create_app

    if request.param == "embedded":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/fuzz.db")
        SQLModel.metadata.create_all(engine)
    else:
        engine = postgres_engine()
        fresh_schema(engine)
    clock = FixedClock(datetime(2026, 11, 22, 9, 30, tzinfo=UTC))
    # The rate limit is tested elsewhere; here it would only turn generated cases into 429s.
    settings_ = Settings(
        database_url="sqlite:///unused.db",
        public_url="http://testserver",
        admin_rate_per_second=10_000,
        admin_rate_burst=10_000,
    )
    container = make_container(engine, settings_, clock)
    with UnitOfWork(engine) as uow:
        demo.seed(uow, clock)
    app = create_app(container)
    with TestClient(app) as client:
        # An organisation with one of everything: its ids are the "known" ones fuzzed besides random ids.
        org = build_other_org(client, container, clock)
    assert org.caller.token is not None
    with UnitOfWork(engine) as uow:
        # Fuzzed "revoke" gets a key of its own: revoking the fuzzing key would turn the rest into 401s.
        spare, _ = apikeys.create(uow, org.org_id, "spare", ["members:read"])
        uow.commit()
    known = {**org.ids, "key_id": spare.id or 0}
    schema = schemathesis.openapi.from_asgi(PREFIX + "/openapi.json", app)
    # Configured auth (not extra headers per call): a negative case that drops the header stays dropped.
    schema.config.update(headers={"Authorization": f"Bearer {org.caller.token}"})
    yield Fuzz(schema, org.caller.token, known)
    container.close()
    engine.dispose()


def _takes_input(op: Operation) -> bool:
    return bool(op.path_params or op.query or op.body or op.request_media_type != "application/json")


KNOWN_IDS_ONLY = {"api_keys.revoke"}
"""A random small id could be the fuzzing key's own: revoking it would turn every later case into 401."""

CASES = [
    pytest.param(op, mode, id=f"{op.name}-{mode.value}")
    for op in ROUTE_TABLE
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    # Negative cases need some input to get wrong (a pinned path id is not one).
    if mode == GenerationMode.POSITIVE or (_takes_input(op) and op.name not in KNOWN_IDS_ONLY)
]


@pytest.mark.parametrize(("op", "mode"), CASES)
def test_operation_honours_its_schema(fuzz: Fuzz, op: Operation, mode: GenerationMode) -> None:
    operation = fuzz.schema[PREFIX + op.path][op.method]
    known = {name: fuzz.known[name] for name in op.path_params}
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=known)
    if known and op.name not in KNOWN_IDS_ONLY:
        strategy = st.one_of(operation.as_strategy(generation_mode=mode), strategy)
    statuses: set[int] = set()

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def run(case: Any) -> None:
        statuses.add(case.call_and_validate(checks=CHECKS).status_code)

    run()
    if mode == GenerationMode.POSITIVE:
        assert 401 not in statuses, "the configured key must authenticate every positive case"
