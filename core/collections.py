"""Collections: what an agent owes the organisation, paid by M-Pesa and matched automatically.

A collection is a demand, not a posting. The money moves when it is paid: Dr M-Pesa clearing /
Cr the agent's cash account (which cash sales debited). A payment matches a collection when its
reference names an open collection and the amount is exactly the amount owed; anything else is
kept as an :class:`~core.tables.UnmatchedPayment` (and parked in suspense) for an officer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from core import ledger, payment_purposes
from core.errors import Conflict, Invalid, NotFound
from core.references import next_reference
from core.sales import Payment
from core.tables import (
    AccountKind,
    Collection,
    CollectionPolicy,
    CollectionStatus,
    LedgerTransaction,
    Member,
    Organisation,
    PaymentPurpose,
    Role,
    UnmatchedPayment,
)
from core.uow import UnitOfWork

COLLECTION = "collection"
UNMATCHED = "unmatched_payment"


def subject(collection_id: int | None) -> str:
    return f"collection:{collection_id}"


def create_collection(
    uow: UnitOfWork,
    org: Organisation,
    agent_id: int,
    amount: int,
    due_date: date,
    *,
    created_by: str = "admin",
) -> Collection:
    """Ask an agent for ``amount`` by ``due_date``.

    Raises:
        Invalid: a non-positive amount.
        NotFound: no such agent in this organisation.
    """
    assert org.id is not None
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise Invalid("amount is a positive whole number of minor units", field="amount")
    agent = uow.session.get(Member, agent_id)
    if agent is None or agent.org_id != org.id or agent.role != Role.AGENT:
        raise NotFound("no such agent", field="agent_id")
    collection = Collection(
        org_id=org.id,
        agent_id=agent_id,
        reference=next_reference(uow, org.id, "C"),
        amount=amount,
        due_date=due_date,
        created_by=created_by[:64],
    )
    uow.session.add(collection)
    uow.session.flush()
    return collection


def get_collection(uow: UnitOfWork, org_id: int, collection_id: int) -> Collection:
    found = uow.session.get(Collection, collection_id)
    if found is None or found.org_id != org_id:
        raise NotFound("no such collection", field="collection_id")
    return found


def find_by_reference(uow: UnitOfWork, org_id: int, reference: str) -> Collection | None:
    ref = (reference or "").strip().upper()
    query = select(Collection).where(Collection.org_id == org_id, Collection.reference == ref)
    return uow.session.exec(query).first()


def open_for_agent(uow: UnitOfWork, org_id: int, agent_id: int) -> list[Collection]:
    """The agent's open collections, soonest due first."""
    query = (
        select(Collection)
        .where(
            Collection.org_id == org_id,
            Collection.agent_id == agent_id,
            Collection.status == CollectionStatus.OPEN,
        )
        .order_by(col(Collection.due_date), col(Collection.id))
    )
    return list(uow.session.exec(query))


def cancel_collection(uow: UnitOfWork, org_id: int, collection_id: int) -> Collection:
    found = get_collection(uow, org_id, collection_id)
    if found.status != CollectionStatus.OPEN:
        raise Conflict(f"collection {found.reference} is {found.status}", field="collection_id")
    found.status = CollectionStatus.CANCELLED
    uow.session.add(found)
    uow.session.flush()
    return found


def apply_payment(uow: UnitOfWork, collection_id: int, payment: Payment, *, now: datetime) -> Collection | None:
    """A PAID payment made for ``collection_id``; returns the collection if it settled it.

    Idempotent: the same payment applied twice settles once. A payment for a collection that is
    no longer open, or of a different amount, is kept for review instead.
    """
    found = uow.session.get(Collection, collection_id)
    if found is None:
        raise NotFound("no such collection", field="collection_id")
    if found.status == CollectionStatus.PAID and found.paid_payment_id == payment.id:
        return found
    if found.status != CollectionStatus.OPEN:
        park_unmatched(uow, found.org_id, payment, reference=found.reference, reason=f"collection {found.status}")
        return None
    if payment.amount != found.amount:
        park_unmatched(uow, found.org_id, payment, reference=found.reference, reason="amount differs")
        return None
    found.status = CollectionStatus.PAID
    found.paid_payment_id = payment.id
    found.paid_at = now
    uow.session.add(found)
    lines = [
        (ledger.account(uow, found.org_id, AccountKind.MPESA_CLEARING), found.amount),
        (ledger.account(uow, found.org_id, AccountKind.AGENT_CASH, found.agent_id), -found.amount),
    ]
    ledger.post(
        uow,
        found.org_id,
        COLLECTION,
        lines,
        memo=f"Collection {found.reference}",
        subject=subject(found.id),
        reference=found.reference,
    )
    uow.session.flush()
    return found


def match_payment(
    uow: UnitOfWork, org_id: int, reference: str, payment: Payment, *, now: datetime
) -> Collection | None:
    """Settle the open collection named by ``reference`` if the amount is exact; else keep it for review."""
    found = find_by_reference(uow, org_id, reference)
    if found is None:
        park_unmatched(uow, org_id, payment, reference=reference, reason="no such collection")
        return None
    return apply_payment(uow, found.id or 0, payment, now=now)


def park_unmatched(uow: UnitOfWork, org_id: int, payment: Payment, *, reference: str, reason: str) -> UnmatchedPayment:
    """Record money that matched nothing and hold it in suspense (once per payment)."""
    if payment.id is not None:
        existing = uow.session.exec(select(UnmatchedPayment).where(UnmatchedPayment.payment_id == payment.id)).first()
        if existing is not None:
            return existing
    row = UnmatchedPayment(
        org_id=org_id,
        payment_id=payment.id,
        reference=(reference or "")[:40],
        amount=payment.amount,
        phone=getattr(payment, "phone", None),
        reason=reason[:120],
    )
    uow.session.add(row)
    ledger.post(
        uow,
        org_id,
        UNMATCHED,
        [
            (ledger.account(uow, org_id, AccountKind.MPESA_CLEARING), payment.amount),
            (ledger.account(uow, org_id, AccountKind.SUSPENSE), -payment.amount),
        ],
        memo=f"Unmatched payment {reference}: {reason}",
        subject=f"payment:{payment.id}",
        reference=(reference or "")[:64] or None,
    )
    uow.session.flush()
    return row


def unmatched(uow: UnitOfWork, org_id: int, *, include_reviewed: bool = False) -> list[UnmatchedPayment]:
    query = select(UnmatchedPayment).where(UnmatchedPayment.org_id == org_id)
    if not include_reviewed:
        query = query.where(col(UnmatchedPayment.reviewed).is_(False))
    return list(uow.session.exec(query.order_by(col(UnmatchedPayment.id))))


def uncollected_cash(uow: UnitOfWork, org_id: int, agent_id: int) -> int:
    """Cash the agent holds from sales that no open collection asks for yet."""
    held = ledger.balance(uow, ledger.find_account(uow, org_id, AccountKind.AGENT_CASH, agent_id))
    asked = uow.session.exec(
        select(func.coalesce(func.sum(Collection.amount), 0)).where(
            Collection.org_id == org_id,
            Collection.agent_id == agent_id,
            Collection.status == CollectionStatus.OPEN,
        )
    ).one()
    return held - int(asked)


def policy_of(uow: UnitOfWork, org_id: int) -> CollectionPolicy:
    found = uow.session.exec(select(CollectionPolicy).where(CollectionPolicy.org_id == org_id)).first()
    return found or CollectionPolicy(org_id=org_id)


def generate_from_cash(uow: UnitOfWork, org: Organisation, agent_id: int, today: date) -> Collection | None:
    """Turn the agent's uncollected cash into one collection due per the organisation's policy.

    Running it twice creates nothing new: cash already asked for is not asked for again.
    """
    assert org.id is not None
    policy = policy_of(uow, org.id)
    amount = uncollected_cash(uow, org.id, agent_id)
    if amount <= 0 or amount < policy.minimum:
        return None
    due = today + timedelta(days=max(policy.due_in_days, 0))
    return create_collection(uow, org, agent_id, amount, due, created_by="policy")


def generate_for_org(uow: UnitOfWork, org: Organisation, today: date) -> list[Collection]:
    """Generate collections for every active agent of ``org`` (the daily job and the CLI)."""
    agents = uow.session.exec(
        select(Member).where(Member.org_id == org.id, Member.role == Role.AGENT, col(Member.active).is_(True))
    ).all()
    made = [generate_from_cash(uow, org, agent.id or 0, today) for agent in agents]
    return [c for c in made if c is not None]


def _credit(
    uow: UnitOfWork, org: Organisation, paid: payment_purposes.PaidPayment, now: datetime
) -> LedgerTransaction | None:
    """Purpose handler: the payment's subject is the collection id it was started for."""
    collection_id = int(paid.subject or 0) if (paid.subject or "").isdigit() else 0
    found = uow.session.get(Collection, collection_id)
    if found is None or found.org_id != paid.org_id:
        park_unmatched(uow, paid.org_id, paid, reference=paid.subject or "", reason="no such collection")
        settled = None
    else:
        settled = apply_payment(uow, collection_id, paid, now=now)
    subject_text = subject(collection_id) if settled is not None else f"payment:{paid.id}"
    query = (
        select(LedgerTransaction)
        .where(LedgerTransaction.subject == subject_text)
        .order_by(col(LedgerTransaction.id).desc())
    )
    return uow.session.exec(query).first()


payment_purposes.register(PaymentPurpose.COLLECTION, credit=_credit)
