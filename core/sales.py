"""Agents' sales: record, complete when paid, fail, void; all ledger postings in one transaction.

Postings (debits positive):

* cash sale, at once: Dr agent cash (the agent's ``AGENT_CASH``) / Cr sales revenue, and
  Dr commission expense / Cr commission payable (the agent's);
* M-Pesa sale, only when its payment is PAID: Dr M-Pesa clearing / Cr sales revenue, plus the
  same commission legs;
* void: the mirror image of each of the sale's postings (:func:`core.ledger.reverse`); nothing
  is deleted. Stock moves out when a sale is recorded and back when it is voided or its
  payment fails.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import col, select

from core import catalogue, ledger, money, payment_purposes, payments, phones
from core.errors import Conflict, Invalid, NotFound
from core.references import next_reference
from core.tables import (
    AccountKind,
    LedgerTransaction,
    Member,
    Organisation,
    PaymentMethod,
    PaymentPurpose,
    Role,
    Sale,
    SaleItem,
    SaleStatus,
)
from core.uow import UnitOfWork

_logger = logging.getLogger(__name__)

SALE = "sale"
MAX_QUANTITY = 10_000
MAX_LINES = 20


class Payment(Protocol):
    """What a sale needs to know of the payment that settles it."""

    @property
    def id(self) -> int | None: ...

    @property
    def amount(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Line:
    """One line the agent entered: which product, how many, at what unit price (minor units)."""

    product_id: int
    quantity: int
    unit_price: int


def subject(sale_id: int | None) -> str:
    return f"sale:{sale_id}"


def parse_quantity(text: str) -> int:
    """A whole number of units from 1 to 10,000 ("2", "1,000").

    Raises:
        Invalid: with ``field="quantity"``.
    """
    raw = (text or "").strip().replace(",", "")
    if not raw.isdigit() or not raw.isascii():
        raise Invalid("quantity is a whole number", field="quantity")
    quantity = int(raw)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid(f"quantity is from 1 to {MAX_QUANTITY:,}", field="quantity")
    return quantity


def parse_customer_phone(text: str) -> str:
    """The customer's phone in E.164 ("0712 345678" -> "+254712345678").

    Raises:
        Invalid: with ``field="customer_phone"``.
    """
    try:
        return phones.normalise(text)
    except Invalid as exc:
        raise Invalid(exc.message, field="customer_phone") from None


def mpesa_customer(text: str) -> str:
    """The customer's M-Pesa number in E.164 (a Kenyan mobile number).

    Raises:
        Invalid: with ``field="customer_phone"``.
    """
    try:
        return payments.mpesa_phone(text)
    except Invalid as exc:
        raise Invalid(exc.message, field="customer_phone") from None


def record_sale(
    uow: UnitOfWork,
    org: Organisation,
    agent: Member,
    lines: Sequence[Line],
    *,
    method: PaymentMethod,
    customer_phone: str | None = None,
    now: datetime,
) -> Sale:
    """Write a sale with its items and take the stock; a cash sale is posted at once.

    An M-Pesa sale stays ``pending_payment`` until :func:`complete_payment` (the caller starts
    the payment and calls :func:`attach_payment`). The caller commits.

    Raises:
        Invalid: an empty sale, a bad quantity or price, a price change the organisation does not
            allow, not enough stock, a missing or bad customer phone for M-Pesa, an M-Pesa total
            outside the organisation's payment limits.
        Conflict: the member is not an active agent.
    """
    assert org.id is not None and agent.id is not None
    if agent.org_id != org.id or agent.role != Role.AGENT or not agent.active:
        raise Conflict("only active agents log sales", field="agent_id")
    if not lines:
        raise Invalid("a sale needs at least one item", field="items")
    if len(lines) > MAX_LINES:
        raise Invalid(f"at most {MAX_LINES} items per sale", field="items")
    if customer_phone:
        mpesa = method == PaymentMethod.MPESA
        customer_phone = mpesa_customer(customer_phone) if mpesa else parse_customer_phone(customer_phone)
    items: list[SaleItem] = []
    for line in lines:
        product = catalogue.get_product(uow, org.id, line.product_id)
        if not product.active:
            raise Invalid(f"{product.name} is not on sale", field="product_id")
        if not 1 <= line.quantity <= MAX_QUANTITY:
            raise Invalid(f"quantity is from 1 to {MAX_QUANTITY:,}", field="quantity")
        if line.unit_price <= 0:
            raise Invalid("price must be positive", field="unit_price")
        if line.unit_price != product.unit_price and not org.agents_may_change_price:
            raise Invalid("agents may not change prices", field="unit_price")
        catalogue.take_stock(uow, product, line.quantity)
        line_total = line.quantity * line.unit_price
        rate = catalogue.basis_points_for(uow, org.id, product.id or 0)
        items.append(
            SaleItem(
                sale_id=0,
                product_id=line.product_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                line_total=line_total,
                commission=catalogue.commission_of(line_total, rate),
            )
        )
    total = sum(item.line_total for item in items)
    if method == PaymentMethod.MPESA:
        _check_mpesa(org, total, customer_phone)
    sale = Sale(
        org_id=org.id,
        agent_id=agent.id,
        reference=next_reference(uow, org.id, "S"),
        total=total,
        commission=sum(item.commission for item in items),
        payment_method=method,
        customer_phone=customer_phone,
        status=SaleStatus.PENDING_PAYMENT if method == PaymentMethod.MPESA else SaleStatus.COMPLETED,
        created_at=now,
    )
    uow.session.add(sale)
    uow.session.flush()
    for item in items:
        item.sale_id = sale.id or 0
        uow.session.add(item)
    if method == PaymentMethod.CASH:
        sale.completed_at = now
        _post(uow, sale, AccountKind.AGENT_CASH)
    uow.session.flush()
    return sale


def _check_mpesa(org: Organisation, total: int, customer_phone: str | None) -> None:
    if not customer_phone:
        raise Invalid("M-Pesa needs the customer's phone", field="customer_phone")
    if total % money.minor_per_unit(org.currency):
        raise Invalid("M-Pesa takes whole amounts only", field="payment_method")
    if not org.min_payment <= total <= org.max_payment:
        low, high = (money.format_amount(v, org.currency) for v in (org.min_payment, org.max_payment))
        raise Invalid(f"M-Pesa takes {low} to {high}", field="payment_method")


def _post(uow: UnitOfWork, sale: Sale, source: AccountKind) -> LedgerTransaction:
    org_id, agent_id = sale.org_id, sale.agent_id
    debit = (
        ledger.account(uow, org_id, source, agent_id)
        if source == AccountKind.AGENT_CASH
        else ledger.account(uow, org_id, source)
    )
    lines = [
        (debit, sale.total),
        (ledger.account(uow, org_id, AccountKind.SALES_REVENUE), -sale.total),
        (ledger.account(uow, org_id, AccountKind.COMMISSION_EXPENSE), sale.commission),
        (ledger.account(uow, org_id, AccountKind.COMMISSION_PAYABLE, agent_id), -sale.commission),
    ]
    memo = f"Sale {sale.reference} ({sale.payment_method})"
    return ledger.post(uow, org_id, SALE, lines, memo=memo, subject=subject(sale.id), reference=sale.reference)


def attach_payment(uow: UnitOfWork, sale: Sale, payment_id: int) -> None:
    sale.payment_id = payment_id
    uow.session.add(sale)
    uow.session.flush()


def get_sale(uow: UnitOfWork, org_id: int, sale_id: int) -> Sale:
    sale = uow.session.get(Sale, sale_id)
    if sale is None or sale.org_id != org_id:
        raise NotFound("no such sale", field="sale_id")
    return sale


def find_by_reference(uow: UnitOfWork, org_id: int, reference: str) -> Sale | None:
    ref = (reference or "").strip().upper()
    if ref.isdigit():
        ref = f"S-{int(ref):06d}"
    return uow.session.exec(select(Sale).where(Sale.org_id == org_id, Sale.reference == ref)).first()


def items_of(uow: UnitOfWork, sale_id: int) -> list[SaleItem]:
    query = select(SaleItem).where(SaleItem.sale_id == sale_id).order_by(col(SaleItem.id))
    return list(uow.session.exec(query))


def complete_payment(uow: UnitOfWork, sale_id: int, payment: Payment, *, now: datetime) -> Sale:
    """The sale's M-Pesa payment is PAID: post it and mark the sale completed (idempotent).

    Called inside the payment's own final-state transaction. Money for a sale that was voided
    meanwhile, or that does not match the total, is parked in suspense for review rather than
    lost or booked as revenue.
    """
    sale = uow.session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("no such sale", field="sale_id")
    if sale.status == SaleStatus.COMPLETED:
        return sale
    if sale.status == SaleStatus.VOIDED or payment.amount != sale.total:
        from core.collections import park_unmatched

        reason = "sale voided before payment" if sale.status == SaleStatus.VOIDED else "amount differs from sale"
        park_unmatched(uow, sale.org_id, payment, reference=sale.reference, reason=reason)
        return sale
    if sale.status == SaleStatus.PAYMENT_FAILED:
        # A late success after a timeout: the goods are sold after all.
        _retake_stock(uow, sale)
    sale.status = SaleStatus.COMPLETED
    sale.completed_at = now
    sale.payment_id = payment.id if payment.id is not None else sale.payment_id
    uow.session.add(sale)
    _post(uow, sale, AccountKind.MPESA_CLEARING)
    uow.session.flush()
    return sale


def fail_payment(uow: UnitOfWork, sale_id: int) -> Sale:
    """The sale's payment ended without money (cancelled, failed, timed out): stock goes back."""
    sale = uow.session.get(Sale, sale_id)
    if sale is None:
        raise NotFound("no such sale", field="sale_id")
    if sale.status != SaleStatus.PENDING_PAYMENT:
        return sale
    sale.status = SaleStatus.PAYMENT_FAILED
    uow.session.add(sale)
    for item in items_of(uow, sale.id or 0):
        catalogue.return_stock(uow, item.product_id, item.quantity)
    uow.session.flush()
    return sale


def _retake_stock(uow: UnitOfWork, sale: Sale) -> None:
    for item in items_of(uow, sale.id or 0):
        product = catalogue.get_product(uow, sale.org_id, item.product_id)
        try:
            catalogue.take_stock(uow, product, item.quantity)
        except Invalid:
            _logger.warning("sale %s paid late but %s is short of stock", sale.reference, product.short_code)


def void_sale(uow: UnitOfWork, org_id: int, sale_id: int, *, by: str, reason: str = "", now: datetime) -> Sale:
    """Void a sale: reverse its postings, put its stock back, keep every row.

    Raises:
        NotFound: no such sale in this organisation.
        Conflict: it is already voided.
    """
    sale = get_sale(uow, org_id, sale_id)
    if sale.status == SaleStatus.VOIDED:
        raise Conflict(f"sale {sale.reference} is already voided", field="sale_id")
    postings = uow.session.exec(
        select(LedgerTransaction).where(
            LedgerTransaction.org_id == org_id,
            LedgerTransaction.subject == subject(sale.id),
            col(LedgerTransaction.reverses_id).is_(None),
        )
    ).all()
    for txn in postings:
        ledger.reverse(uow, txn, memo=f"Void of sale {sale.reference}")
    if sale.status in (SaleStatus.COMPLETED, SaleStatus.PENDING_PAYMENT):
        for item in items_of(uow, sale.id or 0):
            catalogue.return_stock(uow, item.product_id, item.quantity)
    sale.status = SaleStatus.VOIDED
    sale.voided_at = now
    sale.voided_by = by[:64]
    sale.void_reason = (reason or "").strip()[:120] or None
    uow.session.add(sale)
    uow.session.flush()
    return sale


def last_posting(uow: UnitOfWork, subject_text: str) -> LedgerTransaction | None:
    query = (
        select(LedgerTransaction)
        .where(LedgerTransaction.subject == subject_text)
        .order_by(col(LedgerTransaction.id).desc())
    )
    return uow.session.exec(query).first()


def _credit(
    uow: UnitOfWork, org: Organisation, paid: payment_purposes.PaidPayment, now: datetime
) -> LedgerTransaction | None:
    sale_id = int(paid.subject or 0) if (paid.subject or "").isdigit() else 0
    if uow.session.get(Sale, sale_id) is None:
        from core.collections import park_unmatched

        park_unmatched(uow, paid.org_id, paid, reference=paid.subject or "", reason="no such sale")
        return last_posting(uow, f"payment:{paid.id}")
    sale = complete_payment(uow, sale_id, paid, now=now)
    if sale.status == SaleStatus.COMPLETED and sale.payment_id == paid.id:
        return last_posting(uow, subject(sale.id))
    return last_posting(uow, f"payment:{paid.id}")


def _unpaid(uow: UnitOfWork, org: Organisation, paid: payment_purposes.PaidPayment, now: datetime) -> None:
    if (paid.subject or "").isdigit() and uow.session.get(Sale, int(paid.subject or 0)) is not None:
        fail_payment(uow, int(paid.subject or 0))


payment_purposes.register(PaymentPurpose.SALE, credit=_credit, unpaid=_unpaid)
