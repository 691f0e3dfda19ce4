"""Collections: amounts agents owe the organisation, with due dates."""

from __future__ import annotations

from datetime import date
from functools import partial

from pydantic import BaseModel, Field
from sqlmodel import select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.sales import actor
from admin_api.schemas import Amount, Id, Input, Money, Page, PageQuery, Utc
from core import collections
from core.tables import Collection, CollectionStatus

TAG = "trade"


class CollectionOut(BaseModel):
    id: int
    reference: str = Field(description="The M-Pesa account reference when the agent pays.")
    agent_id: int
    amount: Money
    due_date: date
    status: CollectionStatus
    paid_payment_id: int | None
    paid_at: Utc | None
    created_by: str
    created_at: Utc


class CollectionCreate(Input):
    agent_id: Id
    amount: Amount
    due_date: date


class CollectionQuery(PageQuery):
    agent_id: Id | None = None
    status: CollectionStatus | None = None


def collection_out(call: Call, found: Collection) -> CollectionOut:
    assert found.id is not None
    return CollectionOut(
        id=found.id,
        reference=found.reference,
        agent_id=found.agent_id,
        amount=call.money(found.amount),
        due_date=found.due_date,
        status=found.status,
        paid_payment_id=found.paid_payment_id,
        paid_at=found.paid_at,
        created_by=found.created_by,
        created_at=found.created_at,
    )


@op(
    "GET",
    "/collections",
    "collections.list",
    "What agents owe the organisation",
    tag=TAG,
    scope="sales:read",
    query=CollectionQuery,
    response=Page[CollectionOut],
)
def list_collections(call: Call) -> Page[CollectionOut]:
    q: CollectionQuery = call.query
    query = select(Collection).where(Collection.org_id == call.org_id)
    if q.agent_id is not None:
        query = query.where(Collection.agent_id == q.agent_id)
    if q.status is not None:
        query = query.where(Collection.status == q.status)
    return paginate(
        call.uow, query, Collection.id, limit=q.limit, cursor=q.cursor, convert=partial(collection_out, call)
    )


@op(
    "POST",
    "/collections",
    "collections.create",
    "Ask an agent to pay an amount by a date",
    tag=TAG,
    scope="sales:write",
    body=CollectionCreate,
    response=CollectionOut,
    status=201,
    idempotent=True,
)
def create_collection(call: Call) -> CollectionOut:
    body: CollectionCreate = call.body
    found = collections.create_collection(
        call.uow, call.org, body.agent_id, body.amount, body.due_date, created_by=actor(call)
    )
    return collection_out(call, found)


@op(
    "GET",
    "/collections/{collection_id}",
    "collections.get",
    "One collection",
    tag=TAG,
    scope="sales:read",
    response=CollectionOut,
)
def get_collection(call: Call) -> CollectionOut:
    return collection_out(call, collections.get_collection(call.uow, call.org_id, call.params["collection_id"]))


@op(
    "POST",
    "/collections/{collection_id}/cancel",
    "collections.cancel",
    "Cancel an open collection",
    tag=TAG,
    scope="sales:write",
    response=CollectionOut,
)
def cancel_collection(call: Call) -> CollectionOut:
    return collection_out(call, collections.cancel_collection(call.uow, call.org_id, call.params["collection_id"]))


operations = [list_collections, create_collection, get_collection, cancel_collection]
