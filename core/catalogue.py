"""The organisation's products and commission rules.

Commission is a whole number of basis points (500 = 5%) of a line's value, rounded half up to
a minor unit per line: ``(line_total * basis_points + 5000) // 10000``. A sale's commission is
the sum of its lines, so totals always add up. A product's own rule wins over the default.
"""

from __future__ import annotations

import re

from sqlalchemy import update
from sqlmodel import col, select

from core.errors import Conflict, Invalid, NotFound
from core.tables import CommissionRule, Organisation, Product
from core.uow import UnitOfWork

BASIS = 10_000
"""Basis points in one whole (100%)."""
MAX_BASIS_POINTS = 5_000
"""Commission above 50% of the sale is surely a typing mistake."""
_CODE = re.compile(r"^[A-Z0-9]{2,16}$")


def commission_of(line_total: int, basis_points: int) -> int:
    """``line_total * basis_points / 10000`` rounded half up, in whole minor units."""
    if line_total < 0 or basis_points < 0:
        raise Invalid("commission needs non-negative amounts", field="basis_points")
    return (line_total * basis_points + BASIS // 2) // BASIS


def normalise_code(raw: str) -> str:
    code = (raw or "").strip().upper()
    if not _CODE.match(code):
        raise Invalid("a short code is 2 to 16 letters or digits", field="short_code")
    return code


def add_product(
    uow: UnitOfWork,
    org: Organisation,
    *,
    name: str,
    short_code: str,
    unit_price: int,
    sku: str | None = None,
    stock: int | None = None,
    low_stock_threshold: int = 0,
) -> Product:
    """Add a product to the catalogue.

    Raises:
        Invalid: a bad name, code, price or stock.
        Conflict: the short code is taken in this organisation.
    """
    assert org.id is not None
    code = normalise_code(short_code)
    name = (name or "").strip()
    if not 1 <= len(name) <= 40:
        raise Invalid("a name of 1 to 40 characters", field="name")
    if isinstance(unit_price, bool) or not isinstance(unit_price, int) or unit_price <= 0:
        raise Invalid("unit_price is a positive whole number of minor units", field="unit_price")
    if stock is not None and stock < 0:
        raise Invalid("stock cannot be negative", field="stock")
    if low_stock_threshold < 0:
        raise Invalid("low_stock_threshold cannot be negative", field="low_stock_threshold")
    if find_by_code(uow, org.id, code) is not None:
        raise Conflict(f"short code {code} is taken", field="short_code")
    product = Product(
        org_id=org.id,
        name=name,
        short_code=code,
        sku=sku,
        unit_price=unit_price,
        stock=stock,
        low_stock_threshold=low_stock_threshold,
    )
    uow.session.add(product)
    uow.session.flush()
    return product


def find_by_code(uow: UnitOfWork, org_id: int, code: str) -> Product | None:
    query = select(Product).where(Product.org_id == org_id, Product.short_code == code.strip().upper())
    return uow.session.exec(query).first()


def get_product(uow: UnitOfWork, org_id: int, product_id: int) -> Product:
    product = uow.session.get(Product, product_id)
    if product is None or product.org_id != org_id:
        raise NotFound("no such product", field="product_id")
    return product


def active_products(uow: UnitOfWork, org_id: int) -> list[Product]:
    """The products agents can sell, in name order (the order of the sale menu)."""
    query = (
        select(Product)
        .where(Product.org_id == org_id, col(Product.active).is_(True))
        .order_by(col(Product.name), col(Product.id))
    )
    return list(uow.session.exec(query))


def low_stock(uow: UnitOfWork, org_id: int) -> list[Product]:
    """Active products whose tracked stock is at or below their threshold, fewest first."""
    query = (
        select(Product)
        .where(
            Product.org_id == org_id,
            col(Product.active).is_(True),
            col(Product.stock).is_not(None),
            col(Product.stock) <= col(Product.low_stock_threshold),
        )
        .order_by(col(Product.stock), col(Product.name))
    )
    return list(uow.session.exec(query))


def take_stock(uow: UnitOfWork, product: Product, quantity: int) -> None:
    """Remove ``quantity`` from tracked stock atomically, refusing to go below zero.

    Raises:
        Invalid: with ``field="quantity"`` when there is not enough.
    """
    if product.stock is None:
        return
    result = uow.session.execute(
        update(Product)
        .where(col(Product.id) == product.id, col(Product.stock) >= quantity)
        .values(stock=col(Product.stock) - quantity)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        uow.session.refresh(product)
        raise Invalid(f"only {product.stock} {product.name} in stock", field="quantity")
    uow.session.refresh(product)


def return_stock(uow: UnitOfWork, product_id: int, quantity: int) -> None:
    """Put ``quantity`` back (a void or a failed payment); untracked products are left alone."""
    uow.session.execute(
        update(Product)
        .where(col(Product.id) == product_id, col(Product.stock).is_not(None))
        .values(stock=col(Product.stock) + quantity)
        .execution_options(synchronize_session=False)
    )


def set_commission(uow: UnitOfWork, org_id: int, basis_points: int, product_id: int | None = None) -> CommissionRule:
    """Set the default rule (``product_id`` None) or a product's own rule."""
    if isinstance(basis_points, bool) or not isinstance(basis_points, int):
        raise Invalid("basis_points is a whole number (500 = 5%)", field="basis_points")
    if not 0 <= basis_points <= MAX_BASIS_POINTS:
        raise Invalid(f"basis_points is between 0 and {MAX_BASIS_POINTS}", field="basis_points")
    if product_id is not None:
        get_product(uow, org_id, product_id)
    rule = _rule(uow, org_id, product_id)
    if rule is None:
        rule = CommissionRule(org_id=org_id, product_id=product_id, basis_points=basis_points)
    rule.basis_points = basis_points
    uow.session.add(rule)
    uow.session.flush()
    return rule


def _rule(uow: UnitOfWork, org_id: int, product_id: int | None) -> CommissionRule | None:
    match = (
        col(CommissionRule.product_id).is_(None) if product_id is None else col(CommissionRule.product_id) == product_id
    )
    return uow.session.exec(select(CommissionRule).where(CommissionRule.org_id == org_id, match)).first()


def basis_points_for(uow: UnitOfWork, org_id: int, product_id: int) -> int:
    """The product's own rule, else the organisation's default, else no commission."""
    rules = uow.session.exec(select(CommissionRule).where(CommissionRule.org_id == org_id)).all()
    own = next((r for r in rules if r.product_id == product_id), None)
    default = next((r for r in rules if r.product_id is None), None)
    chosen = own or default
    return chosen.basis_points if chosen is not None else 0
