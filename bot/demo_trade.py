"""The demo organisation's trade: a catalogue, commission rules and one open collection (idempotent)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from core import catalogue, collections, members
from core.clock import Clock
from core.tables import Collection, Organisation
from core.uow import UnitOfWork

# (short code, name, price in shillings, stock or None, low-stock threshold)
PRODUCTS = [
    ("SUGAR1KG", "Sugar 1kg", 150, 50, 10),
    ("MILK500", "Milk 500ml", 60, None, 0),
    ("BREAD", "Bread 400g", 65, None, 0),
    ("SOAP", "Bar soap", 120, 40, 5),
    ("OIL1L", "Cooking oil 1L", 350, 8, 10),
    ("RICE2KG", "Rice 2kg", 400, None, 0),
    ("MAIZE2KG", "Maize flour 2kg", 180, None, 0),
    ("SALT1KG", "Salt 1kg", 45, None, 0),
    ("TEA250", "Tea leaves 250g", 220, None, 0),
]
DEFAULT_COMMISSION_BP = 500
"""5% of every sale unless a product has its own rule."""
OIL_COMMISSION_BP = 300
COLLECTION_AMOUNT = 250_000


def seed(uow: UnitOfWork, org: Organisation, clock: Clock, agent_phone: str) -> None:
    """Add what is missing of the demo catalogue, commission and collection; the caller commits."""
    assert org.id is not None
    for code, name, price, stock, threshold in PRODUCTS:
        if catalogue.find_by_code(uow, org.id, code) is None:
            catalogue.add_product(
                uow,
                org,
                name=name,
                short_code=code,
                unit_price=price * 100,
                stock=stock,
                low_stock_threshold=threshold,
            )
    if catalogue.basis_points_for(uow, org.id, 0) == 0:
        catalogue.set_commission(uow, org.id, DEFAULT_COMMISSION_BP)
        oil = catalogue.find_by_code(uow, org.id, "OIL1L")
        assert oil is not None
        catalogue.set_commission(uow, org.id, OIL_COMMISSION_BP, oil.id)
    agent = members.find_by_phone(uow, org.id, agent_phone)
    if agent is None or agent.id is None:
        return
    has_collection = uow.session.exec(
        select(Collection).where(Collection.org_id == org.id, Collection.agent_id == agent.id)
    ).first()
    if has_collection is None:
        due = clock.now().date() + timedelta(days=3)
        collections.create_collection(uow, org, agent.id, COLLECTION_AMOUNT, due, created_by="demo")
