"""What a settled payment does to the books, by purpose: a registry of purpose handlers.

The settlement calls ``credit`` in the same database transaction that moved the payment to
PAID, so the money and the state commit together or not at all; ``unpaid`` (optional) runs,
also in that transaction, when a payment ends without money (failed, cancelled, timeout).

Contributions and loan repayments are handled here. Collections and sales belong to the
agents' modules, which core must not import from here; they register themselves::

    # core/sales.py (runs at import)
    from core import payment_purposes
    payment_purposes.register(
        PaymentPurpose.SALE,
        credit=lambda uow, org, paid, now: complete_payment(uow, int(paid.subject), paid, now=now),
        unpaid=lambda uow, org, paid, now: fail_payment(uow, int(paid.subject)),
    )

and ``bot/bootstrap.py`` imports those modules so every process (web and worker) has them.
A purpose without a handler cannot be started, and a settlement for one stops before any
write (the callback is logged; the status query settles it once the handler is there).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

from core import contributions, ledger, loans
from core.tables import AccountKind, Loan, LoanStatus, Organisation, Payment, PaymentPurpose
from core.uow import UnitOfWork


@dataclasses.dataclass(frozen=True, slots=True)
class PaidPayment:
    """The payment as a handler sees it; ``amount`` is what to credit (normally the requested amount)."""

    id: int
    org_id: int
    member_id: int
    purpose: PaymentPurpose
    subject: str | None
    amount: int
    phone: str
    state: str
    receipt: str | None

    @classmethod
    def of(cls, payment: Payment, amount: int | None = None) -> PaidPayment:
        assert payment.id is not None
        return cls(
            id=payment.id,
            org_id=payment.org_id,
            member_id=payment.member_id,
            purpose=PaymentPurpose(payment.purpose),
            subject=payment.subject,
            amount=payment.amount if amount is None else amount,
            phone=payment.phone,
            state=str(payment.state),
            receipt=payment.mpesa_receipt,
        )

    @property
    def reference(self) -> str:
        return self.receipt or f"PAY-{self.id}"


Action = Callable[[UnitOfWork, Organisation, PaidPayment, datetime], object]
"""``(uow, org, payment, now)``; a returned LedgerTransaction is linked to the payment."""


@dataclasses.dataclass(frozen=True, slots=True)
class PurposeHandler:
    credit: Action
    unpaid: Action | None = None


_HANDLERS: dict[PaymentPurpose, PurposeHandler] = {}


def register(purpose: PaymentPurpose, credit: Action, unpaid: Action | None = None) -> None:
    """Install (or replace) the handler of ``purpose``."""
    _HANDLERS[PaymentPurpose(purpose)] = PurposeHandler(credit, unpaid)


def handler_for(purpose: PaymentPurpose | str) -> PurposeHandler:
    """The handler of ``purpose``.

    Raises:
        LookupError: none is registered in this process.
    """
    try:
        return _HANDLERS[PaymentPurpose(purpose)]
    except (KeyError, ValueError):
        raise LookupError(f"no payment handler for purpose {purpose!r}") from None


def registered() -> frozenset[PaymentPurpose]:
    return frozenset(_HANDLERS)


def _memo(what: str, paid: PaidPayment) -> str:
    return f"{what} (M-Pesa {paid.receipt})" if paid.receipt else f"{what} (M-Pesa)"


def credit_contribution(uow: UnitOfWork, org: Organisation, paid: PaidPayment, now: datetime) -> object:
    """Dr M-Pesa clearing / Cr the member's savings (the plan's account), for the payment's cycle."""
    cycle = paid.subject or contributions.cycle_of(now.date())
    return contributions.post_contribution(
        uow,
        org,
        paid.member_id,
        paid.amount,
        cycle=cycle,
        source=AccountKind.MPESA_CLEARING,
        memo=_memo("Contribution", paid),
        reference=paid.reference,
    )


def credit_loan(uow: UnitOfWork, org: Organisation, paid: PaidPayment, now: datetime) -> object:
    """Dr M-Pesa clearing / Cr loan interest and principal, oldest dues first.

    What is beyond the loan's outstanding total (paid twice, the loan closed or gone meanwhile)
    is the member's money all the same: it goes to their savings, never lost and never a
    negative loan balance.
    """
    subject = paid.subject or ""
    loan = uow.session.get(Loan, int(subject)) if subject.isdigit() else None
    if loan is not None and (loan.member_id != paid.member_id or loan.org_id != paid.org_id):
        loan = None
    owed = 0
    if loan is not None and loan.status == LoanStatus.ACTIVE:
        owed = sum(due.amount for due in loans.outstanding(uow, loan))
    to_loan = min(paid.amount, owed)
    txn: object = None
    if loan is not None and to_loan > 0:
        txn = loans.post_repayment(
            uow,
            org,
            loan,
            to_loan,
            source=AccountKind.MPESA_CLEARING,
            memo=_memo(f"Loan {loan.reference} repayment", paid),
            reference=paid.reference,
        )
    excess = paid.amount - to_loan
    if excess > 0:
        what = f"Overpayment on loan {loan.reference}" if loan is not None else "Loan payment"
        extra = _to_savings(uow, org, paid, excess, _memo(f"{what} to savings", paid))
        txn = txn or extra
    return txn


def _to_savings(uow: UnitOfWork, org: Organisation, paid: PaidPayment, amount: int, memo: str) -> object:
    assert org.id is not None
    return ledger.post(
        uow,
        org.id,
        contributions.CONTRIBUTION,
        [
            (ledger.account(uow, org.id, AccountKind.MPESA_CLEARING), amount),
            (ledger.account(uow, org.id, AccountKind.SAVINGS, paid.member_id), -amount),
        ],
        memo=memo,
        subject=f"payment:{paid.id}",
        reference=paid.reference,
    )


register(PaymentPurpose.CONTRIBUTION, credit_contribution)
register(PaymentPurpose.LOAN_REPAYMENT, credit_loan)
