"""Jobs for agents' trade: customer receipts, M-Pesa outcome notices, daily collections.

Plain functions taking ids, so RQ can import them and the embedded runner can call them; the
container (``bot.bootstrap.current()``) supplies senders and the database.
"""

from __future__ import annotations

import logging
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from core import collections, money, payments, sales
from core.phones import mask
from core.tables import Collection, Member, Organisation, Product, Sale
from flows.i18n import t

_logger = logging.getLogger(__name__)

ITEMS_IN_RECEIPT = 3


def _container() -> Any:
    from bot.bootstrap import current

    return current()


def _sms(container: Any, org_id: int) -> Any:
    """The organisation's SMS sender: the shared one when wired, else one built from the settings."""
    services = container.services
    senders = services.get("senders") or services.get("reminder_senders")
    if senders is None:
        from bot.outbound import ProviderSenders

        senders = services.setdefault("agent_senders", ProviderSenders(container.settings, container.uow))
    return senders.sms(org_id)


def _tell_agent(container: Any, org: Organisation, member_id: int, key: str, **values: object) -> None:
    """A notice to an agent: through the notifier (their channel) when wired, else by SMS."""
    notifier = container.services.get("notifier")
    if notifier is not None:
        notifier.notify(org.id, member_id, key, **values)
        return
    with container.uow() as uow:
        member = uow.session.get(Member, member_id)
    if member is None:
        return
    sms = _sms(container, org.id or 0)
    if sms is None:
        _logger.warning("no SMS sender for org %s; notice %s to %s dropped", org.id, key, mask(member.phone))
        return
    sms.send_text(member.phone, t(member.language or org.default_language, key, **values))


def receipt_text(uow: Any, org: Organisation, sale: Sale, lang: str) -> str:
    items = sales.items_of(uow, sale.id or 0)
    names = {
        p.id: p.name
        for p in uow.session.exec(select(Product).where(Product.id.in_([i.product_id for i in items])))  # type: ignore[union-attr]
    }
    parts = [
        f"{i.quantity} x {names.get(i.product_id, '?')} {money.format_amount(i.line_total, org.currency)}"
        for i in items[:ITEMS_IN_RECEIPT]
    ]
    if len(items) > ITEMS_IN_RECEIPT:
        parts.append(f"+{len(items) - ITEMS_IN_RECEIPT}")
    method = t(lang, "sales.mpesa") if sale.payment_method == "mpesa" else t(lang, "sales.cash")
    return t(
        lang,
        "sales.receipt",
        org=org.name,
        reference=sale.reference,
        items="; ".join(parts),
        total=money.format_amount(sale.total, org.currency),
        method=method,
    )


def send_sale_receipt(sale_id: int) -> None:
    """SMS the customer their receipt (once the sale is completed and has a customer phone)."""
    container = _container()
    with container.uow() as uow:
        sale = uow.session.get(Sale, sale_id)
        if sale is None or not sale.customer_phone or sale.status != "completed":
            return
        org = uow.session.get(Organisation, sale.org_id)
        assert org is not None
        customer = uow.session.exec(
            select(Member).where(Member.org_id == org.id, Member.phone == sale.customer_phone)
        ).first()
        lang = (customer.language if customer else None) or org.default_language
        body = receipt_text(uow, org, sale, lang)
    sms = _sms(container, org.id or 0)
    if sms is None:
        _logger.warning("no SMS sender for org %s; receipt %s not sent", org.id, sale.reference)
        return
    sms.send_text(sale.customer_phone, body)


def _sale_of_payment(container: Any, payment_id: int) -> tuple[Organisation, Sale, Any] | None:
    with container.uow() as uow:
        payment = payments.get_payment(uow, payment_id)
        subject = payment.subject or ""
        sale = uow.session.get(Sale, int(subject)) if subject.isdigit() else None
        org = uow.session.get(Organisation, payment.org_id)
    if sale is None or org is None:
        _logger.warning("payment %s names no sale", payment_id)
        return None
    return org, sale, payment


def sale_paid(payment_id: int) -> None:
    """Tell the agent the customer paid, and send the customer's receipt."""
    container = _container()
    found = _sale_of_payment(container, payment_id)
    if found is None:
        return
    org, sale, payment = found
    if sale.status != "completed" or sale.payment_id != payment_id:
        return  # money parked for review (the sale was voided meanwhile): nothing to celebrate
    _tell_agent(
        container,
        org,
        sale.agent_id,
        "sales.paid_notice",
        reference=sale.reference,
        total=money.format_amount(sale.total, org.currency),
        receipt=payment.mpesa_receipt or "-",
        commission=money.format_amount(sale.commission, org.currency),
    )
    send_sale_receipt(sale.id or 0)


def sale_unpaid(payment_id: int) -> None:
    """Tell the agent the customer did not pay: the sale stays unpaid."""
    container = _container()
    found = _sale_of_payment(container, payment_id)
    if found is None:
        return
    org, sale, payment = found
    key = "sales.unpaid_cancelled" if payment.state == "cancelled" else "sales.unpaid_other"
    _tell_agent(container, org, sale.agent_id, key, reference=sale.reference)


def collection_paid(payment_id: int) -> None:
    """Thank the agent for a settled collection, or say the money waits for review."""
    container = _container()
    with container.uow() as uow:
        payment = payments.get_payment(uow, payment_id)
        subject = payment.subject or ""
        found = uow.session.get(Collection, int(subject)) if subject.isdigit() else None
        org = uow.session.get(Organisation, payment.org_id)
    if org is None:
        return
    amount = money.format_amount(payment.amount, org.currency)
    reference = found.reference if found else subject
    if found is not None and found.paid_payment_id == payment_id:
        receipt = payment.mpesa_receipt or "-"
        _tell_agent(
            container,
            org,
            payment.member_id,
            "collections.paid_notice",
            reference=reference,
            amount=amount,
            receipt=receipt,
        )
    else:
        _tell_agent(
            container, org, payment.member_id, "collections.unmatched_notice", reference=reference, amount=amount
        )


def generate_collections(org_id: int) -> int:
    """The daily job: turn agents' uncollected cash into collections, if the org's policy says so."""
    container = _container()
    with container.uow() as uow:
        org = uow.session.get(Organisation, org_id)
        if org is None or not collections.policy_of(uow, org_id).generate_daily:
            return 0
        today = container.clock.now().astimezone(ZoneInfo(org.timezone)).date()
        made = collections.generate_for_org(uow, org, today)
        uow.commit()
    return len(made)


def generate_daily_collections() -> int:
    """For the daily schedule: every organisation whose policy generates collections from cash sales."""
    from core.tables import CollectionPolicy

    container = _container()
    with container.uow() as uow:
        org_ids = list(uow.session.exec(select(CollectionPolicy.org_id).where(CollectionPolicy.generate_daily)))
    return sum(generate_collections(org_id) for org_id in org_ids)
