"""Broadcasts: one announcement to all members, a role, or a list, each recipient delivered once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from core import quiet_hours
from core.errors import Invalid, NotFound
from core.tables import (
    Audience,
    Broadcast,
    BroadcastMessage,
    BroadcastState,
    DeliveryState,
    Member,
    Organisation,
    Role,
)
from core.uow import UnitOfWork

MAX_BODY = 640
MAX_LIST = 2000


def _check_body(text: str, field: str) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid("the message is empty", field=field)
    if len(text) > MAX_BODY:
        raise Invalid(f"at most {MAX_BODY} characters", field=field)
    return text


def _audience(
    uow: UnitOfWork, org_id: int, audience: Audience, role: str | None, member_ids: Sequence[int]
) -> list[Member]:
    query = select(Member).where(Member.org_id == org_id, col(Member.active).is_(True))
    if audience == Audience.ROLE:
        if role not in {r.value for r in Role}:
            raise Invalid("role is member, agent or officer", field="role")
        query = query.where(Member.role == role)
    elif audience == Audience.LIST:
        wanted = sorted(set(member_ids))
        if not wanted:
            raise Invalid("a list of member ids is needed", field="member_ids")
        if len(wanted) > MAX_LIST:
            raise Invalid(f"at most {MAX_LIST} members per list", field="member_ids")
        found = list(uow.session.exec(query.where(col(Member.id).in_(wanted))))
        missing = set(wanted) - {m.id for m in found}
        if missing:
            raise NotFound(f"no active members {sorted(missing)[:10]}", field="member_ids")
        return found
    return list(uow.session.exec(query.order_by(col(Member.id))))


def create(
    uow: UnitOfWork,
    org: Organisation,
    *,
    audience: Audience | str,
    body_en: str,
    body_sw: str | None = None,
    role: str | None = None,
    member_ids: Sequence[int] = (),
    created_by: str = "",
    now: datetime,
) -> Broadcast:
    """Create a broadcast and one message per reachable recipient; the caller commits.

    Opted-out members get nothing and are counted as skipped. Messages wait for the end of
    the quiet hours when created at night.

    Raises:
        Invalid: empty or long bodies, unknown audience or role, empty list.
        NotFound: a listed member is not an active member of ``org``.
    """
    assert org.id is not None
    try:
        kind = Audience(audience)
    except ValueError:
        raise Invalid("audience is all, role or list", field="audience") from None
    english = _check_body(body_en, "body_en")
    swahili = _check_body(body_sw, "body_sw") if body_sw and body_sw.strip() else english
    people = _audience(uow, org.id, kind, role, member_ids)
    broadcast = Broadcast(
        org_id=org.id,
        audience=kind,
        role=role if kind == Audience.ROLE else None,
        member_ids=",".join(str(m.id) for m in people) if kind == Audience.LIST else "",
        body_en=english,
        body_sw=swahili,
        created_by=created_by[:80],
        state=BroadcastState.QUEUED,
        created_at=now,
    )
    uow.session.add(broadcast)
    uow.session.flush()
    send_after = quiet_hours.next_allowed(org, now)
    reachable = [m for m in people if not m.opted_out]
    uow.session.add_all(
        BroadcastMessage(
            org_id=org.id,
            broadcast_id=broadcast.id,  # type: ignore[arg-type]
            member_id=m.id,  # type: ignore[arg-type]
            lang=(lang := m.language or org.default_language),
            body=swahili if lang == "sw" else english,
            send_after=send_after,
            created_at=now,
        )
        for m in reachable
    )
    broadcast.recipients = len(people)
    broadcast.skipped = len(people) - len(reachable)
    uow.session.flush()
    return broadcast


def get(uow: UnitOfWork, org_id: int, broadcast_id: int) -> Broadcast:
    found = uow.session.get(Broadcast, broadcast_id)
    if found is None or found.org_id != org_id:
        raise NotFound("no such broadcast", field="broadcast_id")
    return found


def refresh_counts(uow: UnitOfWork, broadcast_id: int) -> Broadcast | None:
    """Recount sent / failed / skipped from the messages and close the broadcast when all are final."""
    broadcast = uow.session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    counts: Counter[str] = Counter()
    for state, number in uow.session.exec(
        select(BroadcastMessage.state, func.count())
        .where(BroadcastMessage.broadcast_id == broadcast_id)
        .group_by(col(BroadcastMessage.state))
    ).all():
        counts[str(state)] += int(number)
    opted_out = broadcast.recipients - sum(counts.values())
    broadcast.sent = counts[DeliveryState.SENT] + counts[DeliveryState.DELIVERED]
    broadcast.failed = counts[DeliveryState.FAILED] + counts[DeliveryState.DEAD]
    broadcast.skipped = opted_out + counts[DeliveryState.SKIPPED] + counts[DeliveryState.CANCELLED]
    pending = counts[DeliveryState.PLANNED] + counts[DeliveryState.QUEUED] + counts[DeliveryState.SENDING]
    if broadcast.state != BroadcastState.CANCELLED:
        broadcast.state = BroadcastState.SENDING if pending else BroadcastState.DONE
    uow.session.add(broadcast)
    return broadcast


def cancel(uow: UnitOfWork, org_id: int, broadcast_id: int) -> Broadcast:
    """Withdraw what has not gone out yet; the caller commits."""
    broadcast = get(uow, org_id, broadcast_id)
    for message in uow.session.exec(
        select(BroadcastMessage).where(
            BroadcastMessage.broadcast_id == broadcast_id,
            col(BroadcastMessage.state).in_([DeliveryState.PLANNED, DeliveryState.QUEUED]),
        )
    ):
        message.state = DeliveryState.CANCELLED
        uow.session.add(message)
    broadcast.state = BroadcastState.CANCELLED
    uow.session.flush()
    refresh_counts(uow, broadcast_id)
    return broadcast
