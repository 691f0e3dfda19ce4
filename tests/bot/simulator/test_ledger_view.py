"""The side panel's view of a phone, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from bot import demo
from bot.simulator.ledger_view import member_view, org_for
from core import loans
from core.clock import FixedClock
from core.tables import AccountKind, Loan
from core.uow import UnitOfWork


def test_view_follows_a_repayment(any_db: DbEngine, clock: FixedClock) -> None:
    with UnitOfWork(any_db) as uow:
        org = demo.seed(uow, clock)
    with UnitOfWork(any_db) as uow:
        assert org_for(uow, demo.USSD_CODE) is not None
        assert org_for(uow, "*999#") is not None  # the demo binds every code
        before = member_view(uow, org, demo.MEMBER_PHONE, clock)
        loan = uow.session.exec(select(Loan)).one()
        loans.post_repayment(
            uow, org, loan, 444_200, source=AccountKind.MPESA_CLEARING, memo="M-Pesa SBX1", reference="SBX1"
        )
        uow.commit()
    with UnitOfWork(any_db) as uow:
        after = member_view(uow, org, demo.MEMBER_PHONE, clock)
    loan_before = next(a for a in before["accounts"] if a["kind"] == "loan_principal")
    loan_after = next(a for a in after["accounts"] if a["kind"] == "loan_principal")
    assert loan_before["label"] == "Loan LN-0001"
    assert loan_before["minor"] - loan_after["minor"] == 400_000  # the principal part of the installment
    assert after["books_balanced"] is True
    assert [a["kind"] for a in after["accounts"]][:2] == ["savings", "shares"]


def test_view_of_an_agent_lists_their_accounts(any_db: DbEngine, clock: FixedClock) -> None:
    with UnitOfWork(any_db) as uow:
        org = demo.seed(uow, clock)
        view = member_view(uow, org, demo.AGENT_PHONE, clock)
    assert view["member"]["role"] == "agent"
    assert view["next_installment"] is None
