"""The ledger: balanced postings only, balances are sums of entries, reversals mirror."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine as DbEngine

from core import ledger, orgs
from core.errors import UnbalancedTransaction
from core.tables import AccountKind
from core.uow import UnitOfWork


def _org(uow: UnitOfWork, slug: str = "acme"):  # type: ignore[no-untyped-def]
    return orgs.create_org(uow, "Acme SACCO", slug=slug)


def test_balanced_posting_and_normal_side_balances(any_db: DbEngine) -> None:
    with UnitOfWork(any_db) as uow:
        org = _org(uow)
        clearing = ledger.account(uow, org.id, AccountKind.MPESA_CLEARING)
        income = ledger.account(uow, org.id, AccountKind.FEES_INCOME)
        ledger.post(uow, org.id, "fee", [(clearing, 5_000), (income, -5_000)], memo="Fee")
        uow.commit()
        assert ledger.balance(uow, clearing) == 5_000  # an asset grows with debits
        assert ledger.balance(uow, income) == 5_000  # income grows with credits
        assert ledger.trial_balance(uow, org.id) == 0


@pytest.mark.parametrize(
    "amounts",
    [[100, -99], [100], [0, 0], [100.0, -100.0], [True, -1]],
    ids=["unbalanced", "one-leg", "zeros", "floats", "bool"],
)
def test_bad_postings_are_refused(db: DbEngine, amounts: list[object]) -> None:
    with UnitOfWork(db) as uow:
        org = _org(uow)
        accounts = [ledger.account(uow, org.id, kind) for kind in (AccountKind.CASH, AccountKind.FEES_INCOME)]
        with pytest.raises(UnbalancedTransaction):
            ledger.post(uow, org.id, "bad", list(zip(accounts, amounts, strict=False)))  # type: ignore[arg-type]


def test_reversal_mirrors_and_keeps_history(db: DbEngine) -> None:
    with UnitOfWork(db) as uow:
        org = _org(uow)
        cash = ledger.account(uow, org.id, AccountKind.CASH)
        revenue = ledger.account(uow, org.id, AccountKind.SALES_REVENUE)
        txn = ledger.post(uow, org.id, "sale", [(cash, 2_500), (revenue, -2_500)], memo="Sale")
        reversal = ledger.reverse(uow, txn)
        uow.commit()
        assert reversal.reverses_id == txn.id
        assert ledger.balance(uow, cash) == 0 and ledger.balance(uow, revenue) == 0
        assert ledger.trial_balance(uow, org.id) == 0


KINDS = list(AccountKind)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(KINDS), st.sampled_from(KINDS), st.integers(min_value=1, max_value=10**12)),
        min_size=1,
        max_size=15,
    )
)
def test_random_postings_always_balance(db: DbEngine, moves: list[tuple[AccountKind, AccountKind, int]]) -> None:
    """Any series of postings leaves the books summing to zero, and each balance equals its entries."""
    with UnitOfWork(db) as uow:
        org = _org(uow, slug=f"p{abs(hash(tuple(moves))) % 10**9}")
        expected: dict[AccountKind, int] = {}
        for debit, credit, amount in moves:
            if debit == credit:
                continue
            ledger.post(
                uow,
                org.id,
                "move",
                [(ledger.account(uow, org.id, debit), amount), (ledger.account(uow, org.id, credit), -amount)],
            )
            expected[debit] = expected.get(debit, 0) + amount
            expected[credit] = expected.get(credit, 0) - amount
        assert ledger.trial_balance(uow, org.id) == 0
        for kind, raw in expected.items():
            sign = 1 if kind in ledger.DEBIT_NORMAL else -1
            assert ledger.balance(uow, ledger.find_account(uow, org.id, kind)) == sign * raw


def test_concurrent_first_use_creates_one_org_account(any_db: DbEngine) -> None:
    """Two payments settling at once must not split the organisation's clearing account in two."""
    import threading

    with UnitOfWork(any_db) as uow:
        org_id = _org(uow).id
        uow.commit()
    ids: list[int] = []
    barrier = threading.Barrier(8)

    def first_posting() -> None:
        with UnitOfWork(any_db) as uow:
            barrier.wait()
            clearing = ledger.account(uow, org_id, AccountKind.MPESA_CLEARING)
            income = ledger.account(uow, org_id, AccountKind.FEES_INCOME)
            ledger.post(uow, org_id, "fee", [(clearing, 100), (income, -100)])
            uow.commit()
            ids.append(clearing.id)

    threads = [threading.Thread(target=first_posting) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8
    assert len(set(ids)) == 1
    with UnitOfWork(any_db) as uow:
        assert ledger.balance(uow, ledger.find_account(uow, org_id, AccountKind.MPESA_CLEARING)) == 800
