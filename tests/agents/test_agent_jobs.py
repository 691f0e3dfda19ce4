"""The agents' jobs: daily collections by policy, receipts, and what happens without a customer phone."""

from __future__ import annotations

from bot.jobs import sales as jobs
from core import catalogue, collections, sales
from core.tables import CollectionPolicy, PaymentMethod
from tests.agents_support import Shop


def _cash_sale(shop: Shop, phone: str | None = None) -> int:
    agent = shop.agent()
    sugar = shop.product("SUGAR1KG")
    with shop.uow() as uow:
        sale = sales.record_sale(
            uow,
            shop.org,
            agent,
            [sales.Line(sugar.id or 0, 4, sugar.unit_price)],
            method=PaymentMethod.CASH,
            customer_phone=phone,
            now=shop.clock.now(),
        )
        uow.commit()
    return sale.id or 0


def test_daily_collections_follow_the_policy(shop: Shop) -> None:
    with shop.uow() as uow:
        collections.cancel_collection(uow, shop.org.id or 0, shop.collection().id or 0)  # open demands count as asked
        uow.commit()
    _cash_sale(shop)
    assert jobs.generate_daily_collections() == 0  # no policy: nothing generated
    with shop.uow() as uow:
        uow.session.add(CollectionPolicy(org_id=shop.org.id or 0, generate_daily=True, due_in_days=2, minimum=10_000))
        uow.commit()
    assert jobs.generate_daily_collections() == 1
    assert jobs.generate_daily_collections() == 0  # idempotent
    with shop.uow() as uow:
        owed = collections.open_for_agent(uow, shop.org.id or 0, shop.agent().id or 0)
    assert [(c.reference, c.amount, c.created_by) for c in owed] == [("C-000002", 60_000, "policy")]
    shop.assert_books_sound()


def test_receipt_goes_to_the_customer_only_when_there_is_one(shop: Shop) -> None:
    jobs.send_sale_receipt(_cash_sale(shop))
    assert shop.senders.outbox == []
    jobs.send_sale_receipt(_cash_sale(shop, "0722 000 111"))
    [(to, body)] = shop.senders.outbox
    assert to == "+254722000111"
    assert "S-000002" in body and "4 x Sugar 1kg KES 600" in body and "Demo SACCO" in body


def test_low_stock_lists_tracked_products_at_or_below_threshold(shop: Shop) -> None:
    with shop.uow() as uow:
        assert [p.short_code for p in catalogue.low_stock(uow, shop.org.id or 0)] == ["OIL1L"]
