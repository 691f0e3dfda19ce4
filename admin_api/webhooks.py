"""Outbound webhook subscriptions, their delivery log, and replaying a delivery."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import Input, Page, PageQuery, Str, Utc
from core import webhooks
from core.errors import Invalid
from core.tables import DeliveryStatus, WebhookDelivery, WebhookSubscription

TAG = "webhooks"


class SubscriptionOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str
    active: bool
    created_at: Utc

    @classmethod
    def of(cls, sub: WebhookSubscription) -> SubscriptionOut:
        assert sub.id is not None
        return cls(
            id=sub.id,
            url=sub.url,
            events=sub.events.split(","),
            description=sub.description,
            active=sub.active,
            created_at=sub.created_at,
        )


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="Signs every delivery (Jumbe-Signature); keep it on your side.")


class SubscriptionCreate(Input):
    url: Str = Field(min_length=1, max_length=500, description="https:// (http:// only to localhost).")
    events: list[Str] = Field(min_length=1, max_length=50, description=f"Any of {', '.join(webhooks.EVENTS)}, or *.")
    description: Str = Field(default="", max_length=200)


class SubscriptionUpdate(Input):
    url: Str | None = Field(default=None, min_length=1, max_length=500)
    events: list[Str] | None = Field(default=None, min_length=1, max_length=50)
    description: Str | None = Field(default=None, max_length=200)
    active: bool | None = None


class DeliveryOut(BaseModel):
    id: int
    subscription_id: int
    event_id: str = Field(description="Same for every delivery and replay of one event: de-duplicate on it.")
    event: str
    status: DeliveryStatus
    attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: Utc | None
    delivered_at: Utc | None
    replay_of: int | None
    created_at: Utc

    @classmethod
    def of(cls, delivery: WebhookDelivery) -> DeliveryOut:
        assert delivery.id is not None
        return cls(
            id=delivery.id,
            subscription_id=delivery.subscription_id,
            event_id=delivery.event_id,
            event=delivery.event,
            status=delivery.status,
            attempts=delivery.attempts,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            delivered_at=delivery.delivered_at,
            replay_of=delivery.replay_of,
            created_at=delivery.created_at,
        )


class DeliveryDetail(DeliveryOut):
    payload: str = Field(description="The exact body that was signed and sent.")


class DeliveryQuery(PageQuery):
    status: DeliveryStatus | None = None


@op(
    "GET",
    "/webhooks",
    "webhooks.list",
    "List webhook subscriptions",
    tag=TAG,
    scope="webhooks:read",
    query=PageQuery,
    response=Page[SubscriptionOut],
)
def list_subscriptions(call: Call) -> Page[SubscriptionOut]:
    q: PageQuery = call.query
    query = select(WebhookSubscription).where(WebhookSubscription.org_id == call.org_id)
    return paginate(call.uow, query, WebhookSubscription.id, limit=q.limit, cursor=q.cursor, convert=SubscriptionOut.of)


@op(
    "POST",
    "/webhooks",
    "webhooks.create",
    "Subscribe a URL to events; the signing secret is returned",
    tag=TAG,
    scope="webhooks:write",
    body=SubscriptionCreate,
    response=SubscriptionCreated,
    status=201,
    idempotent=True,
)
def create_subscription(call: Call) -> SubscriptionCreated:
    body: SubscriptionCreate = call.body
    sub = webhooks.subscribe(call.uow, call.org_id, body.url, body.events, body.description)
    return SubscriptionCreated(**SubscriptionOut.of(sub).model_dump(), secret=sub.secret)


@op(
    "GET",
    "/webhooks/{webhook_id}",
    "webhooks.get",
    "One subscription",
    tag=TAG,
    scope="webhooks:read",
    response=SubscriptionOut,
)
def get_subscription(call: Call) -> SubscriptionOut:
    return SubscriptionOut.of(webhooks.get(call.uow, call.org_id, call.params["webhook_id"]))


@op(
    "PATCH",
    "/webhooks/{webhook_id}",
    "webhooks.update",
    "Change URL, events, description, or pause it",
    tag=TAG,
    scope="webhooks:write",
    body=SubscriptionUpdate,
    response=SubscriptionOut,
)
def update_subscription(call: Call) -> SubscriptionOut:
    body: SubscriptionUpdate = call.body
    sub = webhooks.get(call.uow, call.org_id, call.params["webhook_id"])
    for name in ("url", "events", "active"):
        if name in body.model_fields_set and getattr(body, name) is None:
            raise Invalid(f"{name} cannot be null", field=name)
    if body.url is not None:
        sub.url = webhooks.check_url(body.url)
    if body.events is not None:
        sub.events = ",".join(webhooks.parse_events(body.events))
    if body.description is not None:
        sub.description = body.description.strip()
    if body.active is not None:
        sub.active = body.active
    call.uow.session.add(sub)
    return SubscriptionOut.of(sub)


@op(
    "GET",
    "/webhooks/{webhook_id}/deliveries",
    "webhooks.deliveries",
    "The delivery log of a subscription",
    tag=TAG,
    scope="webhooks:read",
    query=DeliveryQuery,
    response=Page[DeliveryOut],
)
def list_deliveries(call: Call) -> Page[DeliveryOut]:
    q: DeliveryQuery = call.query
    sub = webhooks.get(call.uow, call.org_id, call.params["webhook_id"])
    query = select(WebhookDelivery).where(
        WebhookDelivery.org_id == call.org_id, WebhookDelivery.subscription_id == sub.id
    )
    if q.status is not None:
        query = query.where(WebhookDelivery.status == q.status)
    return paginate(call.uow, query, WebhookDelivery.id, limit=q.limit, cursor=q.cursor, convert=DeliveryOut.of)


@op(
    "GET",
    "/webhook-deliveries/{delivery_id}",
    "webhooks.delivery",
    "One delivery with its payload",
    tag=TAG,
    scope="webhooks:read",
    response=DeliveryDetail,
)
def get_delivery(call: Call) -> DeliveryDetail:
    delivery = webhooks.get_delivery(call.uow, call.org_id, call.params["delivery_id"])
    return DeliveryDetail(**DeliveryOut.of(delivery).model_dump(), payload=delivery.payload)


@op(
    "POST",
    "/webhook-deliveries/{delivery_id}/replay",
    "webhooks.replay",
    "Send a delivery's event again (same event id and body, new delivery)",
    tag=TAG,
    scope="webhooks:write",
    response=DeliveryOut,
    status=202,
    idempotent=True,
)
def replay_delivery(call: Call) -> DeliveryOut:
    return DeliveryOut.of(webhooks.replay(call.uow, call.org_id, call.params["delivery_id"], call.now()))


operations = [
    list_subscriptions,
    create_subscription,
    get_subscription,
    update_subscription,
    list_deliveries,
    get_delivery,
    replay_delivery,
]
