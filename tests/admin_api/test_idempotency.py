"""``Idempotency-Key``: a replay returns the first response; the same key with another body is 409."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from admin_api import idempotency
from bot.bootstrap import Container
from core.tables import AuditLog, IdempotencyRecord, LedgerTransaction, Member
from core.uow import UnitOfWork
from tests.admin_api.conftest import BOTH, Caller

NEW_MEMBER = {"phone": "0712555001", "name": "Wanjiku Idem"}


def _count(container: Container, model: Any) -> int:
    with UnitOfWork(container.db) as uow:
        return int(uow.session.exec(select(func.count()).select_from(model)).one())


@BOTH
def test_replay_returns_the_first_response_and_does_nothing_twice(admin: Caller, container: Container) -> None:
    headers = {"Idempotency-Key": "create-wanjiku-1"}
    first = admin.post("/members", json=NEW_MEMBER, headers=headers)
    second = admin.post("/members", json=NEW_MEMBER, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    with UnitOfWork(container.db) as uow:
        assert len(uow.session.exec(select(Member).where(Member.phone == "+254712555001")).all()) == 1
    assert _count(container, AuditLog) == 1


@BOTH
def test_same_key_different_body_is_409(admin: Caller, container: Container) -> None:
    headers = {"Idempotency-Key": "k-2"}
    assert admin.post("/members", json=NEW_MEMBER, headers=headers).status_code == 201
    clash = admin.post("/members", json={**NEW_MEMBER, "name": "Someone Else"}, headers=headers)
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "idempotency_key_reused"
    assert clash.json()["error"]["field"] == "Idempotency-Key"


def test_money_moves_once(admin: Caller, container: Container) -> None:
    headers = {"Idempotency-Key": "repay-LN-0001-r1"}
    body = {"amount": 50_000, "reference": "RCPT-1"}
    before = _count(container, LedgerTransaction)
    responses = [admin.post("/loans/1/repayments", json=body, headers=headers) for _ in range(3)]
    assert {r.status_code for r in responses} == {201}
    assert len({r.text for r in responses}) == 1
    assert _count(container, LedgerTransaction) == before + 1


def test_without_a_key_each_post_is_its_own(admin: Caller, container: Container) -> None:
    body = {"amount": 1_000, "reference": "C-1"}
    before = _count(container, LedgerTransaction)
    assert admin.post("/members/1/contributions", json=body).status_code == 201
    assert admin.post("/members/1/contributions", json=body).status_code == 201
    assert _count(container, LedgerTransaction) == before + 2


def test_failed_requests_are_not_remembered(admin: Caller, container: Container) -> None:
    headers = {"Idempotency-Key": "fix-and-retry"}
    bad = admin.post("/members", json={"phone": "not a phone", "name": "X"}, headers=headers)
    assert bad.status_code == 422
    assert admin.post("/members", json=NEW_MEMBER, headers=headers).status_code == 201
    assert _count(container, IdempotencyRecord) == 1


def test_keys_are_per_organisation(admin: Caller, other_org: Any) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    assert admin.post("/members", json=NEW_MEMBER, headers=headers).status_code == 201
    theirs = other_org.caller.post("/members", json=NEW_MEMBER, headers=headers)
    assert theirs.status_code == 201 and "idempotent-replayed" not in theirs.headers


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "tab\tkey"])
def test_malformed_key_is_400(admin: Caller, key: str) -> None:
    response = admin.post("/members", json=NEW_MEMBER, headers={"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "Idempotency-Key"


@BOTH
def test_a_racing_twin_gets_the_winners_response(
    admin: Caller, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests miss the record; the second one's commit hits the unique key and replays."""
    headers = {"Idempotency-Key": "race"}
    first = admin.post("/members", json=NEW_MEMBER, headers=headers)
    real_find = idempotency.find
    calls = {"n": 0}

    def blind_first_lookup(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_find(*args, **kwargs)

    monkeypatch.setattr(idempotency, "find", blind_first_lookup)
    twin = admin.post("/members", json=NEW_MEMBER, headers=headers)
    assert twin.status_code == 201, twin.text
    assert twin.json() == first.json()
    assert twin.headers["idempotent-replayed"] == "true"
    with UnitOfWork(container.db) as uow:
        assert len(uow.session.exec(select(Member).where(Member.phone == "+254712555001")).all()) == 1


def test_expired_keys_are_forgotten(admin: Caller, container: Container, clock: Any) -> None:
    headers = {"Idempotency-Key": "old"}
    assert (
        admin.post("/members/1/contributions", json={"amount": 100, "reference": "a"}, headers=headers).status_code
        == 201
    )
    clock.advance(hours=25)
    again = admin.post("/members/1/contributions", json={"amount": 100, "reference": "a"}, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers


@BOTH
def test_a_racing_twin_moving_money_is_rolled_back(
    admin: Caller, container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing stops the twin's ledger posting but the key's unique row: the posting rolls back with it."""
    headers = {"Idempotency-Key": "race-money"}
    body = {"amount": 20_000, "reference": "RACE"}
    first = admin.post("/members/1/contributions", json=body, headers=headers)
    before = _count(container, LedgerTransaction)
    real_find = idempotency.find
    calls = {"n": 0}

    def blind_first_lookup(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_find(*args, **kwargs)

    monkeypatch.setattr(idempotency, "find", blind_first_lookup)
    twin = admin.post("/members/1/contributions", json=body, headers=headers)
    assert twin.status_code == 201, twin.text
    assert twin.json() == first.json() and twin.headers["idempotent-replayed"] == "true"
    assert _count(container, LedgerTransaction) == before
