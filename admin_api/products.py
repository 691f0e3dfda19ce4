"""The product catalogue agents sell from, with commission rules."""

from __future__ import annotations

from functools import partial

from pydantic import BaseModel, Field
from sqlmodel import col, select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import Amount, Input, Money, Page, PageQuery, Str, Utc
from core import catalogue
from core.errors import Invalid
from core.tables import Product

TAG = "trade"
STOCK_LIMIT = 10**12


class ProductOut(BaseModel):
    id: int
    name: str
    short_code: str = Field(description="What agents type: SALE <CODE> <QTY>.")
    sku: str | None
    unit_price: Money
    active: bool
    stock: int | None = Field(description="Units on hand; null when stock is not tracked.")
    low_stock_threshold: int
    commission_basis_points: int = Field(description="500 = 5% of each line; the product's rule or the default.")
    created_at: Utc


class ProductCreate(Input):
    name: Str = Field(min_length=1, max_length=40)
    short_code: Str = Field(min_length=2, max_length=16, description="2 to 16 letters or digits.")
    unit_price: Amount
    sku: Str | None = Field(default=None, max_length=40)
    stock: int | None = Field(default=None, ge=0, le=STOCK_LIMIT)
    low_stock_threshold: int = Field(default=0, ge=0, le=STOCK_LIMIT)
    commission_basis_points: int | None = Field(default=None, ge=0, le=catalogue.MAX_BASIS_POINTS)


class ProductUpdate(Input):
    name: Str | None = Field(default=None, min_length=1, max_length=40)
    unit_price: Amount | None = None
    sku: Str | None = Field(default=None, max_length=40)
    active: bool | None = None
    stock: int | None = Field(default=None, ge=0, le=STOCK_LIMIT, description="null stops tracking stock.")
    low_stock_threshold: int | None = Field(default=None, ge=0, le=STOCK_LIMIT)
    commission_basis_points: int | None = Field(default=None, ge=0, le=catalogue.MAX_BASIS_POINTS)


class ProductQuery(PageQuery):
    active: bool | None = None


def product_out(call: Call, product: Product) -> ProductOut:
    assert product.id is not None
    return ProductOut(
        id=product.id,
        name=product.name,
        short_code=product.short_code,
        sku=product.sku,
        unit_price=call.money(product.unit_price),
        active=product.active,
        stock=product.stock,
        low_stock_threshold=product.low_stock_threshold,
        commission_basis_points=catalogue.basis_points_for(call.uow, call.org_id, product.id),
        created_at=product.created_at,
    )


@op(
    "GET",
    "/products",
    "products.list",
    "The catalogue",
    tag=TAG,
    scope="sales:read",
    query=ProductQuery,
    response=Page[ProductOut],
)
def list_products(call: Call) -> Page[ProductOut]:
    q: ProductQuery = call.query
    query = select(Product).where(Product.org_id == call.org_id)
    if q.active is not None:
        query = query.where(col(Product.active).is_(q.active))
    return paginate(call.uow, query, Product.id, limit=q.limit, cursor=q.cursor, convert=partial(product_out, call))


@op(
    "POST",
    "/products",
    "products.create",
    "Add a product",
    tag=TAG,
    scope="sales:write",
    body=ProductCreate,
    response=ProductOut,
    status=201,
    idempotent=True,
)
def create_product(call: Call) -> ProductOut:
    body: ProductCreate = call.body
    product = catalogue.add_product(
        call.uow,
        call.org,
        name=body.name,
        short_code=body.short_code,
        unit_price=body.unit_price,
        sku=body.sku,
        stock=body.stock,
        low_stock_threshold=body.low_stock_threshold,
    )
    if body.commission_basis_points is not None:
        catalogue.set_commission(call.uow, call.org_id, body.commission_basis_points, product.id)
    return product_out(call, product)


@op("GET", "/products/{product_id}", "products.get", "One product", tag=TAG, scope="sales:read", response=ProductOut)
def get_product(call: Call) -> ProductOut:
    return product_out(call, catalogue.get_product(call.uow, call.org_id, call.params["product_id"]))


@op(
    "PATCH",
    "/products/{product_id}",
    "products.update",
    "Change price, stock, commission, or retire it",
    tag=TAG,
    scope="sales:write",
    body=ProductUpdate,
    response=ProductOut,
)
def update_product(call: Call) -> ProductOut:
    body: ProductUpdate = call.body
    product = catalogue.get_product(call.uow, call.org_id, call.params["product_id"])
    given = body.model_fields_set
    for name in ("name", "unit_price", "active", "low_stock_threshold"):
        if name in given and getattr(body, name) is None:
            raise Invalid(f"{name} cannot be null", field=name)
    if body.name is not None:
        if not body.name.strip():
            raise Invalid("a name of 1 to 40 characters", field="name")
        product.name = body.name.strip()
    for name in ("unit_price", "active", "low_stock_threshold"):
        if getattr(body, name) is not None:
            setattr(product, name, getattr(body, name))
    for name in ("sku", "stock"):
        if name in given:
            setattr(product, name, getattr(body, name))
    call.uow.session.add(product)
    if body.commission_basis_points is not None:
        catalogue.set_commission(call.uow, call.org_id, body.commission_basis_points, product.id)
    call.uow.session.flush()
    return product_out(call, product)


operations = [list_products, create_product, get_product, update_product]
