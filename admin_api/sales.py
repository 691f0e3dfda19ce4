"""Agents' sales: list, one with its items, void, and CSV export."""

from __future__ import annotations

from functools import partial

from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from admin_api.operations import Call, Raw, op
from admin_api.pagination import paginate
from admin_api.reports import CSV, to_csv
from admin_api.schemas import CreatedRange, Id, Input, Money, Page, PageQuery, Str, Utc
from core import sales, webhooks
from core.clock import as_utc
from core.tables import PaymentMethod, Sale, SaleStatus

TAG = "trade"


def actor(call: Call) -> str:
    """How the sales and collections tables name an API caller."""
    return f"api:{call.key.prefix}"


class SaleItemOut(BaseModel):
    product_id: int
    quantity: int
    unit_price: Money
    line_total: Money
    commission: Money


class SaleOut(BaseModel):
    id: int
    reference: str
    agent_id: int
    total: Money
    commission: Money
    payment_method: PaymentMethod
    customer_phone: str | None
    status: SaleStatus
    payment_id: int | None
    created_at: Utc
    completed_at: Utc | None
    voided_at: Utc | None
    voided_by: str | None
    void_reason: str | None


class SaleDetail(SaleOut):
    items: list[SaleItemOut]


class SaleFilters(CreatedRange):
    agent_id: Id | None = None
    status: SaleStatus | None = None


class SaleQuery(SaleFilters, PageQuery):
    pass


class VoidIn(Input):
    reason: Str = Field(min_length=1, max_length=120)


def sale_out(call: Call, sale: Sale, detail: bool = False) -> SaleOut:
    assert sale.id is not None
    fields = {
        "id": sale.id,
        "reference": sale.reference,
        "agent_id": sale.agent_id,
        "total": call.money(sale.total),
        "commission": call.money(sale.commission),
        "payment_method": sale.payment_method,
        "customer_phone": sale.customer_phone,
        "status": sale.status,
        "payment_id": sale.payment_id,
        "created_at": sale.created_at,
        "completed_at": sale.completed_at,
        "voided_at": sale.voided_at,
        "voided_by": sale.voided_by,
        "void_reason": sale.void_reason,
    }
    if not detail:
        return SaleOut(**fields)
    items = [
        SaleItemOut(
            product_id=item.product_id,
            quantity=item.quantity,
            unit_price=call.money(item.unit_price),
            line_total=call.money(item.line_total),
            commission=call.money(item.commission),
        )
        for item in sales.items_of(call.uow, sale.id)
    ]
    return SaleDetail(**fields, items=items)


def _sales(call: Call, q: SaleFilters) -> SelectOfScalar[Sale]:
    query = select(Sale).where(Sale.org_id == call.org_id)
    if q.agent_id is not None:
        query = query.where(Sale.agent_id == q.agent_id)
    if q.status is not None:
        query = query.where(Sale.status == q.status)
    return q.within(query, col(Sale.created_at))


@op(
    "GET",
    "/sales",
    "sales.list",
    "Sales, newest first; filter by agent, status, time",
    tag=TAG,
    scope="sales:read",
    query=SaleQuery,
    response=Page[SaleOut],
)
def list_sales(call: Call) -> Page[SaleOut]:
    q: SaleQuery = call.query
    return paginate(call.uow, _sales(call, q), Sale.id, limit=q.limit, cursor=q.cursor, convert=partial(sale_out, call))


@op("GET", "/sales/{sale_id}", "sales.get", "One sale with its items", tag=TAG, scope="sales:read", response=SaleDetail)
def get_sale(call: Call) -> SaleOut:
    return sale_out(call, sales.get_sale(call.uow, call.org_id, call.params["sale_id"]), detail=True)


@op(
    "POST",
    "/sales/{sale_id}/void",
    "sales.void",
    "Void a sale: postings reversed, stock put back",
    tag=TAG,
    scope="sales:write",
    body=VoidIn,
    response=SaleDetail,
)
def void_sale(call: Call) -> SaleOut:
    body: VoidIn = call.body
    sale = sales.void_sale(
        call.uow, call.org_id, call.params["sale_id"], by=actor(call), reason=body.reason, now=call.now()
    )
    out = sale_out(call, sale, detail=True)
    webhooks.emit(call.uow, call.org_id, "sale.voided", out.model_dump(mode="json"), call.now())
    return out


SALE_COLUMNS = (
    "id",
    "reference",
    "created_at",
    "agent_id",
    "status",
    "payment_method",
    "total",
    "commission",
    "currency",
    "customer_phone",
    "payment_id",
    "voided_at",
    "void_reason",
)


@op(
    "GET",
    "/exports/sales.csv",
    "exports.sales",
    "Sales as CSV (same filters as the list)",
    tag=TAG,
    scope="sales:read",
    query=SaleFilters,
    media_type=CSV,
)
def export_sales(call: Call) -> Raw:
    query = _sales(call, call.query).order_by(col(Sale.id))
    rows = (
        (
            s.id,
            s.reference,
            as_utc(s.created_at),
            s.agent_id,
            str(s.status),
            str(s.payment_method),
            s.total,
            s.commission,
            call.org.currency,
            s.customer_phone,
            s.payment_id,
            as_utc(s.voided_at) if s.voided_at else None,
            s.void_reason,
        )
        for s in call.uow.session.exec(query)
    )
    body = to_csv(SALE_COLUMNS, rows, raw_columns=("customer_phone", "total", "commission"))
    return Raw(body, CSV + "; charset=utf-8", filename=f"{call.org.slug}-sales.csv")


operations = [list_sales, get_sale, void_sale, export_sales]
