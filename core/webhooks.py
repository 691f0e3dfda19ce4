"""Outbound webhooks: subscriptions, events turned into signed deliveries, and the delivery log.

Deliveries are rows written in the same transaction as the change they announce; once that
transaction commits, a :class:`DeliveriesCreated` event tells the application to send them (it
enqueues one job per delivery). A rolled-back change therefore never announces itself.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from core import events
from core.clock import as_utc
from core.errors import Conflict, Invalid, NotFound
from core.tables import DeliveryStatus, WebhookDelivery, WebhookSubscription
from core.uow import UnitOfWork

EVENTS = (
    "member.created",
    "member.updated",
    "member.deactivated",
    "loan.disbursed",
    "payment.succeeded",
    "payment.failed",
    "sale.created",
    "sale.voided",
    "collection.paid",
    "reminder.failed",
)
"""Event types a subscription can ask for (``*`` asks for all)."""

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True, slots=True)
class DeliveriesCreated:
    """Published (on :mod:`core.events`) once the deliveries' transaction commits: send them now."""

    delivery_ids: tuple[int, ...]


_PENDING = "jumbe_webhook_deliveries"


def _after_commit(uow: UnitOfWork, delivery_ids: Sequence[int]) -> None:
    """Publish :class:`DeliveriesCreated` once this transaction (not a savepoint inside it) commits."""
    if not delivery_ids:
        return
    session = uow.session
    root = session.get_transaction()
    held: tuple[Any, list[int]] | None = session.info.get(_PENDING)
    if held is None or held[0] is not root:  # left over from a transaction that rolled back
        held = session.info[_PENDING] = (root, [])
    held[1].extend(delivery_ids)
    if not sa_event.contains(session, "after_commit", _send):
        sa_event.listen(session, "after_commit", _send)


def _send(session: Session) -> None:
    # Releasing a savepoint fires after_commit too (ledger.account uses one); the rows are not
    # committed until the outermost transaction is.
    if session.in_nested_transaction():
        return
    held = session.info.pop(_PENDING, None)
    if held is not None and held[0] is session.get_transaction() and held[1]:
        events.publish(DeliveriesCreated(tuple(held[1])))


# -- subscriptions ---------------------------------------------------------------------------


def check_url(url: str) -> str:
    """HTTPS anywhere, plain HTTP only to this machine (for local development).

    Raises:
        Invalid: with ``field="url"``.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise Invalid("not a URL", field="url") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise Invalid("an https:// URL of at most 500 characters", field="url")
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        raise Invalid("use https:// (plain http is only allowed to localhost)", field="url")
    if parts.username or parts.password:
        raise Invalid("credentials in the URL are not allowed; verify our signature instead", field="url")
    if _internal_address(parts.hostname):
        raise Invalid("private, link-local and reserved addresses are not allowed", field="url")
    return url


def _internal_address(host: str) -> bool:
    """An IP literal inside someone's network (10/8, 169.254/16 cloud metadata...); loopback is local dev."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: resolved at delivery time
    if address.is_loopback:
        return False
    return (
        address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or (address.is_unspecified)
    )


def parse_events(raw: str | Sequence[str]) -> list[str]:
    """Known event types, de-duplicated; ``["*"]`` for everything.

    Raises:
        Invalid: unknown or no event types (``field="events"``).
    """
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    wanted = sorted({item.strip() for item in items if item.strip()})
    if "*" in wanted:
        return ["*"]
    unknown = [name for name in wanted if name not in EVENTS]
    if unknown:
        raise Invalid(f"unknown event {unknown[0]!r}; known: {', '.join(EVENTS)} or *", field="events")
    if not wanted:
        raise Invalid("subscribe to at least one event", field="events")
    return wanted


def subscribe(
    uow: UnitOfWork, org_id: int, url: str, events: Sequence[str], description: str = ""
) -> WebhookSubscription:
    """Add a subscription with a fresh signing secret (``whsec_...``)."""
    sub = WebhookSubscription(
        org_id=org_id,
        url=check_url(url),
        events=",".join(parse_events(events)),
        secret="whsec_" + secrets.token_urlsafe(32),
        description=description.strip()[:200],
    )
    uow.session.add(sub)
    uow.session.flush()
    return sub


def get(uow: UnitOfWork, org_id: int, subscription_id: int) -> WebhookSubscription:
    sub = uow.session.get(WebhookSubscription, subscription_id)
    if sub is None or sub.org_id != org_id:
        raise NotFound("no such webhook subscription", field="webhook_id")
    return sub


def wants(sub: WebhookSubscription, event: str) -> bool:
    names = sub.events.split(",")
    return sub.active and ("*" in names or event in names)


# -- events and deliveries -------------------------------------------------------------------


def emit(
    uow: UnitOfWork,
    org_id: int,
    event: str,
    data: Mapping[str, Any],
    now: datetime,
    *,
    event_id: str | None = None,
) -> list[WebhookDelivery]:
    """Queue ``event`` for every active subscription of the organisation that wants it.

    The deliveries are sent after the caller commits; nothing is sent if it rolls back. Give a
    deterministic ``event_id`` (at most 40 characters) to make emitting the same event twice a no-op.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if event_id is not None:
        seen = uow.session.exec(select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)).first()
        if seen is not None:
            return []
    subs = uow.session.exec(
        select(WebhookSubscription).where(
            WebhookSubscription.org_id == org_id, col(WebhookSubscription.active).is_(True)
        )
    ).all()
    targets = [sub for sub in subs if wants(sub, event)]
    if not targets:
        return []
    event_id = event_id or "evt_" + uuid.uuid4().hex
    body = json.dumps(
        {"id": event_id, "type": event, "created_at": _iso(now), "data": dict(data)},
        separators=(",", ":"),
        sort_keys=True,
        default=_json_value,
    )
    deliveries = [
        WebhookDelivery(
            org_id=org_id, subscription_id=sub.id, event_id=event_id, event=event, payload=body, next_attempt_at=now
        )
        for sub in targets
        if sub.id is not None
    ]
    uow.session.add_all(deliveries)
    uow.session.flush()
    _after_commit(uow, [d.id for d in deliveries if d.id is not None])
    return deliveries


def get_delivery(uow: UnitOfWork, org_id: int, delivery_id: int) -> WebhookDelivery:
    delivery = uow.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.org_id != org_id:
        raise NotFound("no such delivery", field="delivery_id")
    return delivery


def replay(uow: UnitOfWork, org_id: int, delivery_id: int, now: datetime) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same event id and body.

    Raises:
        NotFound: no such delivery in this organisation.
        Conflict: its subscription is no longer active.
    """
    original = get_delivery(uow, org_id, delivery_id)
    sub = get(uow, org_id, original.subscription_id)
    if not sub.active:
        raise Conflict("the subscription is inactive; activate it before replaying", field="delivery_id")
    copy = WebhookDelivery(
        org_id=org_id,
        subscription_id=original.subscription_id,
        event_id=original.event_id,
        event=original.event,
        payload=original.payload,
        next_attempt_at=now,
        replay_of=original.id,
    )
    uow.session.add(copy)
    uow.session.flush()
    assert copy.id is not None
    _after_commit(uow, [copy.id])
    return copy


@dataclass(frozen=True, slots=True)
class Attempt:
    """What the delivery job needs to send one delivery."""

    delivery_id: int
    url: str
    secret: str
    event: str
    event_id: str
    body: bytes
    attempt: int
    """1 for the first try."""


def prepare(uow: UnitOfWork, delivery_id: int) -> Attempt | None:
    """The next attempt of a pending delivery, or None if it is done or its subscription is off."""
    delivery = uow.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return None
    sub = uow.session.get(WebhookSubscription, delivery.subscription_id)
    if sub is None or not sub.active:
        return None
    return Attempt(
        delivery_id=delivery_id,
        url=sub.url,
        secret=sub.secret,
        event=delivery.event,
        event_id=delivery.event_id,
        body=delivery.payload.encode("utf-8"),
        attempt=delivery.attempts + 1,
    )


def record_attempt(
    uow: UnitOfWork,
    delivery_id: int,
    *,
    status_code: int | None,
    error: str | None,
    now: datetime,
    retry_in: float | None,
) -> DeliveryStatus:
    """Log one attempt: 2xx is delivered; otherwise pending again in ``retry_in`` seconds, or failed.

    ``retry_in=None`` means that was the last attempt.
    """
    delivery = uow.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return DeliveryStatus.FAILED
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = None if error is None else error[:200]
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif retry_in is None:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    uow.session.add(delivery)
    return delivery.status


def stuck(uow: UnitOfWork, now: datetime, grace: timedelta = timedelta(minutes=15)) -> list[int]:
    """Pending deliveries whose next attempt is long overdue (their job was lost): send again."""
    rows = uow.session.exec(
        select(WebhookDelivery.id).where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            col(WebhookDelivery.next_attempt_at) < now - grace,
        )
    ).all()
    return [row for row in rows if row is not None]


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat().replace("+00:00", "Z")


def _json_value(value: object) -> str:
    """Timestamps as ISO 8601 UTC, dates as ISO dates, anything else as text."""
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
