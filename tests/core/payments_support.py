"""Helpers for the payment tests: a seeded organisation, payments in a given state, callback reports."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime

from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from bot import demo
from core import contributions, ledger, loans, payments
from core.clock import FixedClock
from core.ports import GatewayUnavailable, PushAccepted, QueryAnswer
from core.settlement import Report
from core.tables import AccountKind, Loan, Member, Organisation, Payment, PaymentPurpose, PaymentState
from core.uow import UnitOfWork

_keys = itertools.count(1)


@dataclasses.dataclass
class World:
    db: DbEngine
    clock: FixedClock
    org: Organisation
    member: Member
    loan: Loan

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def savings(self) -> int:
        with self.uow() as uow:
            acc = ledger.find_account(uow, self.org.id or 0, AccountKind.SAVINGS, self.member.id)
            return ledger.balance(uow, acc)

    def clearing(self) -> int:
        with self.uow() as uow:
            return ledger.balance(uow, ledger.find_account(uow, self.org.id or 0, AccountKind.MPESA_CLEARING))

    def loan_repaid(self) -> int:
        with self.uow() as uow:
            return loans.repaid(uow, self.loan)

    def trial_balance(self) -> int:
        with self.uow() as uow:
            return ledger.trial_balance(uow, self.org.id or 0)

    def payment(self, payment_id: int) -> Payment:
        with self.uow() as uow:
            return payments.get_payment(uow, payment_id)

    def start(
        self,
        amount: int = 100_000,
        purpose: PaymentPurpose = PaymentPurpose.CONTRIBUTION,
        subject: str | None = None,
        *,
        phone: str | None = None,
        member: Member | None = None,
    ) -> Payment:
        if subject is None:
            subject = str(self.loan.id) if purpose == PaymentPurpose.LOAN_REPAYMENT else "2026-11"
        with self.uow() as uow:
            payment = payments.start_payment(
                uow,
                self.org,
                member or self.member,
                purpose=purpose,
                amount=amount,
                subject=subject,
                idempotency_key=f"test-{next(_keys)}",
                phone=phone,
                now=self.now,
            )
            uow.commit()
        return payment

    def pending(self, amount: int = 100_000, purpose: PaymentPurpose = PaymentPurpose.CONTRIBUTION) -> Payment:
        """A payment pushed and accepted, waiting for the payer."""
        payment = self.start(amount, purpose)
        assert payment.id is not None
        with self.uow() as uow:
            assert payments.claim_push(uow, payment.id, self.now)
            payments.record_push_accepted(
                uow,
                payment.id,
                merchant_request_id=f"m-{payment.id}",
                checkout_request_id=checkout_of(payment),
                now=self.now,
            )
            uow.commit()
        return self.payment(payment.id)


def checkout_of(payment: Payment) -> str:
    return f"ws_CO_TEST{payment.id:06d}"


def world(db: DbEngine, clock: FixedClock) -> World:
    with UnitOfWork(db) as uow:
        org = demo.seed(uow, clock)
    with UnitOfWork(db) as uow:
        member = uow.session.exec(select(Member).where(Member.phone == demo.MEMBER_PHONE)).one()
        loan = uow.session.exec(select(Loan).where(Loan.member_id == member.id)).one()
    return World(db, clock, org, member, loan)


def paid(payment: Payment, **changes: object) -> Report:
    """The success callback M-Pesa would send for ``payment``."""
    base = Report(
        source="callback",
        outcome=PaymentState.PAID,
        result_code=0,
        result_desc="The service request is processed successfully.",
        receipt=f"SBX{payment.id:07d}",
        amount=payment.amount,
        phone=payment.phone,
        checkout_request_id=checkout_of(payment),
        merchant_request_id=f"m-{payment.id}",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def failed(payment: Payment, code: int, outcome: PaymentState, source: str = "callback") -> Report:
    return Report(
        source=source,
        outcome=outcome,
        result_code=code,
        result_desc=f"result {code}",
        checkout_request_id=checkout_of(payment),
    )


class FakeGateway:
    """Records pushes; answers queries from ``answers`` (checkout id -> QueryAnswer or exception)."""

    def __init__(self) -> None:
        self.pushes: list[dict[str, object]] = []
        self.queries: list[str] = []
        self.answers: dict[str, QueryAnswer | Exception] = {}
        self.push_error: Exception | None = None
        self.next_checkout: str | None = None
        self._ids = itertools.count(1)

    def stk_push(
        self, *, phone: str, amount: int, account_reference: str, description: str, callback_token: str
    ) -> PushAccepted:
        self.pushes.append(
            {
                "phone": phone,
                "amount": amount,
                "account_reference": account_reference,
                "description": description,
                "callback_token": callback_token,
            }
        )
        if self.push_error is not None:
            raise self.push_error
        n = next(self._ids)
        checkout, self.next_checkout = self.next_checkout or f"ws_CO_FAKE{n:06d}", None
        return PushAccepted(merchant_request_id=f"m-fake-{n}", checkout_request_id=checkout)

    def stk_query(self, checkout_request_id: str) -> QueryAnswer:
        self.queries.append(checkout_request_id)
        answer = self.answers.get(checkout_request_id, QueryAnswer(None, None, "being processed"))
        if isinstance(answer, Exception):
            raise answer
        return answer


PENDING_ANSWER = QueryAnswer(None, None, "The transaction is being processed")
UNAVAILABLE = GatewayUnavailable("could not reach M-Pesa", code="network")


def contribution_paid(w: World) -> int:
    with w.uow() as uow:
        return contributions.paid_in_cycle(uow, w.member.id or 0, "2026-11")
