"""Which message a member gets when their payment settles (catalog keys in flows/locales/*/pay.toml).

Sales and collections are the agents' business: their own subscriber tells the agent and the
customer, so nothing is sent for them here.
"""

from __future__ import annotations

from datetime import datetime

from channels.mpesa import describe
from core import balances, ledger, money
from core.tables import AccountKind, Loan, Organisation, Payment, PaymentPurpose
from core.uow import UnitOfWork

_FAILURES = {
    "insufficient_funds": "pay.notice_insufficient",
    "wrong_pin": "pay.notice_wrong_pin",
    "cancelled": "pay.notice_cancelled",
    "timeout": "pay.notice_timeout",
}

Notice = tuple[str, dict[str, object]]


def notice_for(uow: UnitOfWork, payment: Payment, state: str, now: datetime) -> Notice | None:
    """The catalog key and values for a payment that settled to ``state``, or None to stay silent."""
    if payment.purpose not in (PaymentPurpose.CONTRIBUTION, PaymentPurpose.LOAN_REPAYMENT):
        return None
    org = uow.session.get(Organisation, payment.org_id)
    assert org is not None

    def amount(minor: int) -> str:
        return money.format_amount(minor, org.currency)

    receipt = payment.mpesa_receipt or f"PAY-{payment.id}"
    base: dict[str, object] = {"org": org.name, "amount": amount(payment.amount)}
    if state == "paid":
        return _paid(uow, org, payment, base | {"receipt": receipt}, now)
    if payment.needs_review and (payment.paid_amount or payment.mpesa_receipt):
        # Money reached M-Pesa but is held: say so, so the member does not pay twice.
        return "pay.notice_review", base | {"amount": amount(payment.paid_amount or payment.amount), "receipt": receipt}
    if state == "cancelled":
        return "pay.notice_cancelled", base
    if state == "timeout":
        return "pay.notice_timeout", base
    if state == "failed":
        reason = describe(payment.result_code).reason if payment.result_code is not None else "failed"
        return _FAILURES.get(reason, "pay.notice_failed"), base
    return None


def _paid(uow: UnitOfWork, org: Organisation, payment: Payment, values: dict[str, object], now: datetime) -> Notice:
    assert org.id is not None
    loan = None
    if payment.purpose == PaymentPurpose.LOAN_REPAYMENT and (payment.subject or "").isdigit():
        loan = uow.session.get(Loan, int(payment.subject or 0))
    if loan is not None:
        owed = ledger.balance(
            uow, ledger.find_account(uow, org.id, AccountKind.LOAN_PRINCIPAL, payment.member_id, loan.id)
        )
        return "pay.notice_paid_loan", values | {
            "loan": loan.reference,
            "balance": money.format_amount(max(owed, 0), org.currency),
        }
    figures = balances.of_member(uow, org.id, payment.member_id, now.date())
    return "pay.notice_paid_savings", values | {"balance": money.format_amount(figures.savings, org.currency)}
