"""The agents' domain without channels: catalogue, commission, sales, voids, collections, references."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine as DbEngine
from sqlmodel import select

from bot import demo
from core import catalogue, collections, ledger, references, sales
from core.clock import FixedClock
from core.errors import Conflict, Invalid
from core.tables import AccountKind, Member, Organisation, PaymentMethod, Sale, UnmatchedPayment
from core.uow import UnitOfWork


@dataclasses.dataclass(frozen=True)
class Paid:
    id: int | None
    amount: int
    phone: str = "+254700000002"


@pytest.fixture
def seeded(db: DbEngine, clock: FixedClock) -> tuple[DbEngine, Organisation, Member]:
    return _seed(db, clock)


def _seed(db: DbEngine, clock: FixedClock) -> tuple[DbEngine, Organisation, Member]:
    with UnitOfWork(db) as uow:
        org = demo.seed(uow, clock)
    with UnitOfWork(db) as uow:
        agent = uow.session.exec(select(Member).where(Member.phone == demo.AGENT_PHONE)).one()
    return db, org, agent


def _sell(
    db: DbEngine,
    org: Organisation,
    agent: Member,
    lines: list[tuple[str, int]],
    clock: FixedClock,
    method: PaymentMethod = PaymentMethod.CASH,
    phone: str | None = None,
) -> Sale:
    with UnitOfWork(db) as uow:
        items = []
        for code, quantity in lines:
            product = catalogue.find_by_code(uow, org.id or 0, code)
            assert product is not None and product.id is not None
            items.append(sales.Line(product.id, quantity, product.unit_price))
        sale = sales.record_sale(uow, org, agent, items, method=method, customer_phone=phone, now=clock.now())
        uow.commit()
    return sale


def _bal(db: DbEngine, org: Organisation, kind: AccountKind, member_id: int | None = None) -> int:
    with UnitOfWork(db) as uow:
        return ledger.balance(uow, ledger.find_account(uow, org.id or 0, kind, member_id))


def _trial(db: DbEngine, org: Organisation) -> int:
    with UnitOfWork(db) as uow:
        return ledger.trial_balance(uow, org.id or 0)


@pytest.mark.parametrize(
    ("total", "bp", "expected"),
    [(10_000, 500, 500), (6_500, 500, 325), (1, 5_000, 1), (1, 4_999, 0), (3, 1_667, 1), (15, 3_333, 5), (0, 500, 0)],
)
def test_commission_rounds_half_up_to_a_minor_unit(total: int, bp: int, expected: int) -> None:
    assert catalogue.commission_of(total, bp) == expected


@given(st.integers(0, 10**12), st.integers(0, 5_000))
def test_commission_is_the_nearest_minor_unit(total: int, bp: int) -> None:
    got = catalogue.commission_of(total, bp)
    exact_times_basis = total * bp
    assert abs(got * 10_000 - exact_times_basis) <= 5_000
    assert isinstance(got, int)


def test_quantity_parsing() -> None:
    assert sales.parse_quantity(" 1,000 ") == 1_000
    for bad in ("0", "10001", "10000000", "", "two", "-1", "1.5", "²"):
        with pytest.raises(Invalid) as err:
            sales.parse_quantity(bad)
        assert err.value.field == "quantity"


def test_cash_sale_posts_at_once_and_takes_stock(
    seeded: tuple[DbEngine, Organisation, Member], clock: FixedClock
) -> None:
    db, org, agent = seeded
    sale = _sell(db, org, agent, [("SUGAR1KG", 2), ("OIL1L", 1)], clock)
    # sugar 300 at 5% = 15; oil 350 at its own 3% = 10.50
    assert (sale.reference, sale.status, sale.total, sale.commission) == ("S-000001", "completed", 65_000, 2_550)
    assert _bal(db, org, AccountKind.AGENT_CASH, agent.id) == 65_000
    assert _bal(db, org, AccountKind.SALES_REVENUE) == 65_000
    assert _bal(db, org, AccountKind.COMMISSION_PAYABLE, agent.id) == 2_550
    assert _bal(db, org, AccountKind.COMMISSION_EXPENSE) == 2_550
    with UnitOfWork(db) as uow:
        assert catalogue.find_by_code(uow, org.id or 0, "oil1l").stock == 7  # type: ignore[union-attr]
    assert _trial(db, org) == 0


def test_refusals(seeded: tuple[DbEngine, Organisation, Member], clock: FixedClock) -> None:
    db, org, agent = seeded
    with pytest.raises(Invalid, match="only 8") as err:
        _sell(db, org, agent, [("OIL1L", 9)], clock)
    assert err.value.field == "quantity"
    with pytest.raises(Invalid) as err:
        _sell(db, org, agent, [("SUGAR1KG", 1)], clock, PaymentMethod.MPESA)
    assert err.value.field == "customer_phone"
    with pytest.raises(Invalid) as err:
        _sell(db, org, agent, [("SUGAR1KG", 1)], clock, PaymentMethod.MPESA, "+15555550100")
    assert err.value.field == "customer_phone"
    with pytest.raises(Invalid) as err:
        _sell(db, org, agent, [("RICE2KG", 400)], clock, PaymentMethod.MPESA, "0712345678")  # above KES 150,000
    assert err.value.field == "payment_method"
    with UnitOfWork(db) as uow:
        sugar = catalogue.find_by_code(uow, org.id or 0, "SUGAR1KG")
        assert sugar is not None and sugar.id is not None
        with pytest.raises(Invalid) as err:
            sales.record_sale(uow, org, agent, [sales.Line(sugar.id, 1, 1)], method=PaymentMethod.CASH, now=clock.now())
        assert err.value.field == "unit_price"
        member = uow.session.exec(select(Member).where(Member.phone == demo.MEMBER_PHONE)).one()
        with pytest.raises(Conflict):
            sales.record_sale(
                uow,
                org,
                member,
                [sales.Line(sugar.id, 1, sugar.unit_price)],
                method=PaymentMethod.CASH,
                now=clock.now(),
            )
        with pytest.raises(Invalid):
            sales.record_sale(uow, org, agent, [], method=PaymentMethod.CASH, now=clock.now())
    with UnitOfWork(db) as uow:
        assert catalogue.find_by_code(uow, org.id or 0, "OIL1L").stock == 8  # type: ignore[union-attr]
        assert uow.session.exec(select(Sale)).all() == []
    assert _trial(db, org) == 0


def test_mpesa_sale_completes_only_when_paid_and_void_reverses(
    seeded: tuple[DbEngine, Organisation, Member], clock: FixedClock
) -> None:
    db, org, agent = seeded
    sale = _sell(db, org, agent, [("SUGAR1KG", 2)], clock, PaymentMethod.MPESA, "0712345678")
    assert sale.status == "pending_payment" and _bal(db, org, AccountKind.SALES_REVENUE) == 0
    with UnitOfWork(db) as uow:
        sales.complete_payment(uow, sale.id or 0, Paid(41, 30_000), now=clock.now())
        sales.complete_payment(uow, sale.id or 0, Paid(41, 30_000), now=clock.now())  # idempotent
        uow.commit()
    assert _bal(db, org, AccountKind.MPESA_CLEARING) == 30_000
    assert _bal(db, org, AccountKind.SALES_REVENUE) == 30_000
    with UnitOfWork(db) as uow:
        voided = sales.void_sale(uow, org.id or 0, sale.id or 0, by="api:test", now=clock.now())
        uow.commit()
    assert voided.status == "voided"
    for kind in (AccountKind.MPESA_CLEARING, AccountKind.SALES_REVENUE, AccountKind.COMMISSION_EXPENSE):
        assert _bal(db, org, kind) == 0
    with UnitOfWork(db) as uow, pytest.raises(Conflict):
        sales.void_sale(uow, org.id or 0, sale.id or 0, by="api:test", now=clock.now())
    with UnitOfWork(db) as uow:
        assert catalogue.find_by_code(uow, org.id or 0, "SUGAR1KG").stock == 50  # type: ignore[union-attr]
    assert _trial(db, org) == 0


def test_money_for_a_voided_pending_sale_is_parked_for_review(
    seeded: tuple[DbEngine, Organisation, Member], clock: FixedClock
) -> None:
    db, org, agent = seeded
    sale = _sell(db, org, agent, [("BREAD", 2)], clock, PaymentMethod.MPESA, "0712345678")
    with UnitOfWork(db) as uow:
        sales.void_sale(uow, org.id or 0, sale.id or 0, by="member:5", now=clock.now())
        uow.commit()
    with UnitOfWork(db) as uow:
        sales.complete_payment(uow, sale.id or 0, Paid(77, 13_000), now=clock.now())
        uow.commit()
    assert _bal(db, org, AccountKind.SUSPENSE) == 13_000
    assert _bal(db, org, AccountKind.SALES_REVENUE) == 0
    with UnitOfWork(db) as uow:
        parked = collections.unmatched(uow, org.id or 0)
    assert [(p.payment_id, p.amount, p.reference) for p in parked] == [(77, 13_000, "S-000001")]
    assert _trial(db, org) == 0


def test_failed_payment_returns_stock_and_a_late_success_completes(
    seeded: tuple[DbEngine, Organisation, Member], clock: FixedClock
) -> None:
    db, org, agent = seeded
    sale = _sell(db, org, agent, [("SUGAR1KG", 5)], clock, PaymentMethod.MPESA, "0712345678")
    with UnitOfWork(db) as uow:
        assert sales.fail_payment(uow, sale.id or 0).status == "payment_failed"
        uow.commit()
    with UnitOfWork(db) as uow:
        assert catalogue.find_by_code(uow, org.id or 0, "SUGAR1KG").stock == 50  # type: ignore[union-attr]
        done = sales.complete_payment(uow, sale.id or 0, Paid(9, 75_000), now=clock.now())
        uow.commit()
    assert done.status == "completed"
    with UnitOfWork(db) as uow:
        assert catalogue.find_by_code(uow, org.id or 0, "SUGAR1KG").stock == 45  # type: ignore[union-attr]
    assert _trial(db, org) == 0


def test_collections_match_by_reference_and_exact_amount(
    seeded: tuple[DbEngine, Organisation, Member], clock: FixedClock
) -> None:
    db, org, agent = seeded
    with UnitOfWork(db) as uow:
        owed = collections.open_for_agent(uow, org.id or 0, agent.id or 0)
        assert [(c.reference, c.amount) for c in owed] == [("C-000001", 250_000)]
        assert collections.match_payment(uow, org.id or 0, "C-000001", Paid(1, 249_900), now=clock.now()) is None
        assert collections.match_payment(uow, org.id or 0, "C-999999", Paid(2, 1_000), now=clock.now()) is None
        paid = collections.match_payment(uow, org.id or 0, "c-000001", Paid(3, 250_000), now=clock.now())
        assert paid is not None and paid.status == "paid" and paid.paid_payment_id == 3
        again = collections.apply_payment(uow, paid.id or 0, Paid(3, 250_000), now=clock.now())
        assert again is not None  # the same payment twice settles once
        late = collections.apply_payment(uow, paid.id or 0, Paid(4, 250_000), now=clock.now())
        assert late is None  # a second payment for a paid collection waits for review
        uow.commit()
    with UnitOfWork(db) as uow:
        reasons = [
            (u.payment_id, u.reason) for u in uow.session.exec(select(UnmatchedPayment).order_by(UnmatchedPayment.id))
        ]  # type: ignore[arg-type]
    assert reasons == [(1, "amount differs"), (2, "no such collection"), (4, "collection paid")]
    assert _bal(db, org, AccountKind.SUSPENSE) == 249_900 + 1_000 + 250_000
    assert _bal(db, org, AccountKind.AGENT_CASH, agent.id) == -250_000
    assert _trial(db, org) == 0


def test_collections_generated_from_cash_sales(
    seeded: tuple[DbEngine, Organisation, Member], clock: FixedClock
) -> None:
    db, org, agent = seeded
    with UnitOfWork(db) as uow:
        collections.cancel_collection(
            uow, org.id or 0, collections.find_by_reference(uow, org.id or 0, "C-000001").id or 0
        )  # type: ignore[union-attr]
        uow.commit()
    _sell(db, org, agent, [("SUGAR1KG", 2)], clock)
    _sell(db, org, agent, [("BREAD", 1)], clock)
    today = date(2026, 11, 22)
    with UnitOfWork(db) as uow:
        made = collections.generate_for_org(uow, org, today)
        assert [(c.reference, c.amount, c.due_date, c.created_by) for c in made] == [
            ("C-000002", 36_500, today + timedelta(days=1), "policy")
        ]
        assert collections.generate_for_org(uow, org, today) == []  # nothing new to ask for
        uow.commit()
    _sell(db, org, agent, [("SALT1KG", 2)], clock)
    with UnitOfWork(db) as uow:
        assert [c.amount for c in collections.generate_for_org(uow, org, today)] == [9_000]
        uow.commit()


def test_references_are_per_organisation_and_never_repeat(any_db: DbEngine) -> None:
    with UnitOfWork(any_db) as uow:
        from core import orgs

        one = orgs.create_org(uow, "One")
        two = orgs.create_org(uow, "Two")
        uow.commit()
    got = []
    for org in (one, one, two, one):
        with UnitOfWork(any_db) as uow:
            got.append(references.next_reference(uow, org.id or 0, "S"))
            uow.commit()
    assert got == ["S-000001", "S-000002", "S-000001", "S-000003"]


def test_sales_on_postgres_and_sqlite_alike(any_db: DbEngine, clock: FixedClock) -> None:
    db, org, agent = _seed(any_db, clock)
    sale = _sell(db, org, agent, [("SUGAR1KG", 3), ("BREAD", 1)], clock)
    with UnitOfWork(db) as uow:
        sales.void_sale(uow, org.id or 0, sale.id or 0, by="member:5", now=clock.now())
        uow.commit()
    _sell(db, org, agent, [("OIL1L", 8)], clock)
    with pytest.raises(Invalid):
        _sell(db, org, agent, [("OIL1L", 1)], clock)
    assert _bal(db, org, AccountKind.SALES_REVENUE) == 280_000
    assert _trial(db, org) == 0


lines_strategy = st.lists(
    st.tuples(
        st.sampled_from(["MILK500", "BREAD", "RICE2KG", "MAIZE2KG", "SALT1KG", "TEA250", "OIL1L"]),
        st.integers(1, 10_000),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(lines_strategy, min_size=1, max_size=4), st.integers(0, 5_000))
def test_commission_totals_equal_the_sum_per_sale(
    db: DbEngine, clock: FixedClock, baskets: list[list[tuple[str, int]]], rate: int
) -> None:
    with UnitOfWork(db) as uow:
        org = uow.session.exec(select(Organisation).where(Organisation.slug == demo.DEMO_SLUG)).first()
    if org is None:
        _seed(db, clock)
    db, org, agent = _seed(db, clock)
    with UnitOfWork(db) as uow:
        catalogue.set_commission(uow, org.id or 0, rate)
        for product in catalogue.active_products(uow, org.id or 0):
            product.stock = None  # untracked, so any basket sells
            uow.session.add(product)
        uow.commit()
    before = _bal(db, org, AccountKind.COMMISSION_PAYABLE, agent.id)
    made = [_sell(db, org, agent, basket, clock) for basket in baskets]
    with UnitOfWork(db) as uow:
        for sale in made:
            items = sales.items_of(uow, sale.id or 0)
            assert sale.commission == sum(i.commission for i in items)
            assert sale.total == sum(i.quantity * i.unit_price for i in items)
    assert _bal(db, org, AccountKind.COMMISSION_PAYABLE, agent.id) - before == sum(s.commission for s in made)
    assert _trial(db, org) == 0
