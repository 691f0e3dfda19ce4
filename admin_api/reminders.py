"""Reminder rules, the reminders planned and sent from them, and broadcasts."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field
from sqlmodel import select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.sales import actor
from admin_api.schemas import Id, Input, Money, Page, PageQuery, Str, Utc
from core import broadcasts, reminder_rules
from core.errors import Invalid, NotFound
from core.tables import (
    Audience,
    Broadcast,
    BroadcastState,
    DeliveryState,
    Reminder,
    ReminderRule,
    Role,
    TargetKind,
)

TAG = "reminders"


class RuleOut(BaseModel):
    id: int
    target: TargetKind
    offset_days: int = Field(description="-3: three days before the due date; 0: the day; 7: a week late.")
    repeat_every_days: int | None
    max_repeats: int
    template_en: str
    template_sw: str
    pay_now: bool
    active: bool
    created_at: Utc

    @classmethod
    def of(cls, rule: ReminderRule) -> RuleOut:
        assert rule.id is not None
        return cls(**rule.model_dump(exclude={"org_id"}))


TEMPLATE = "Text with {name} {amount} {due_date} {reference} {org}."


class RuleCreate(Input):
    target: TargetKind
    offset_days: int = Field(ge=-60, le=365)
    repeat_every_days: int | None = Field(default=None, ge=1, le=90)
    max_repeats: int = Field(default=0, ge=0, le=52)
    template_en: Str = Field(min_length=1, max_length=480, description=TEMPLATE)
    template_sw: Str = Field(min_length=1, max_length=480, description=TEMPLATE)
    pay_now: bool = True
    active: bool = True


class RuleUpdate(Input):
    offset_days: int | None = Field(default=None, ge=-60, le=365)
    repeat_every_days: int | None = Field(default=None, ge=1, le=90)
    max_repeats: int | None = Field(default=None, ge=0, le=52)
    template_en: Str | None = Field(default=None, min_length=1, max_length=480)
    template_sw: Str | None = Field(default=None, min_length=1, max_length=480)
    pay_now: bool | None = None
    active: bool | None = None


class ReminderOut(BaseModel):
    id: int
    rule_id: int
    member_id: int
    target_kind: TargetKind
    target_id: str
    due_date: date
    occurrence: int
    amount: Money
    reference: str
    lang: str
    body: str
    state: DeliveryState
    send_after: Utc
    channel: str | None
    attempts: int
    error: str | None
    sent_at: Utc | None
    created_at: Utc


class ReminderQuery(PageQuery):
    state: DeliveryState | None = None
    member_id: Id | None = None
    target_kind: TargetKind | None = None


class BroadcastOut(BaseModel):
    id: int
    audience: Audience
    role: str | None
    body_en: str
    body_sw: str
    created_by: str
    state: BroadcastState
    recipients: int
    sent: int
    failed: int
    skipped: int = Field(description="Opted out, unreachable or cancelled.")
    created_at: Utc

    @classmethod
    def of(cls, found: Broadcast) -> BroadcastOut:
        return cls(**found.model_dump(exclude={"org_id", "member_ids"}))


class BroadcastCreate(Input):
    audience: Audience = Field(description="all active members, one role, or a list of member ids.")
    body_en: Str = Field(min_length=1, max_length=broadcasts.MAX_BODY)
    body_sw: Str | None = Field(default=None, max_length=broadcasts.MAX_BODY, description="Default: the English.")
    role: Role | None = Field(default=None, description="For audience=role.")
    member_ids: list[Id] = Field(default_factory=list, max_length=broadcasts.MAX_LIST, description="audience=list.")


def _rule(call: Call) -> ReminderRule:
    rule = call.uow.session.get(ReminderRule, call.params["rule_id"])
    if rule is None or rule.org_id != call.org_id:
        raise NotFound("no such reminder rule", field="rule_id")
    return rule


@op(
    "GET",
    "/reminder-rules",
    "reminder_rules.list",
    "When reminders go out, and what they say",
    tag=TAG,
    scope="reminders:read",
    query=PageQuery,
    response=Page[RuleOut],
)
def list_rules(call: Call) -> Page[RuleOut]:
    q: PageQuery = call.query
    query = select(ReminderRule).where(ReminderRule.org_id == call.org_id)
    return paginate(call.uow, query, ReminderRule.id, limit=q.limit, cursor=q.cursor, convert=RuleOut.of)


@op(
    "POST",
    "/reminder-rules",
    "reminder_rules.create",
    "Add a reminder rule",
    tag=TAG,
    scope="reminders:write",
    body=RuleCreate,
    response=RuleOut,
    status=201,
    idempotent=True,
)
def create_rule(call: Call) -> RuleOut:
    rule = ReminderRule(org_id=call.org_id, **call.body.model_dump())
    reminder_rules.validate_rule(rule)
    call.uow.session.add(rule)
    call.uow.session.flush()
    return RuleOut.of(rule)


@op(
    "PATCH",
    "/reminder-rules/{rule_id}",
    "reminder_rules.update",
    "Change or pause a reminder rule",
    tag=TAG,
    scope="reminders:write",
    body=RuleUpdate,
    response=RuleOut,
)
def update_rule(call: Call) -> RuleOut:
    body: RuleUpdate = call.body
    rule = _rule(call)
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None and name != "repeat_every_days":
            raise Invalid(f"{name} cannot be null", field=name)
        setattr(rule, name, value)
    reminder_rules.validate_rule(rule)
    call.uow.session.add(rule)
    return RuleOut.of(rule)


@op(
    "GET",
    "/reminders",
    "reminders.list",
    "Reminders planned and sent, newest first",
    tag=TAG,
    scope="reminders:read",
    query=ReminderQuery,
    response=Page[ReminderOut],
)
def list_reminders(call: Call) -> Page[ReminderOut]:
    q: ReminderQuery = call.query
    query = select(Reminder).where(Reminder.org_id == call.org_id)
    if q.state is not None:
        query = query.where(Reminder.state == q.state)
    if q.member_id is not None:
        query = query.where(Reminder.member_id == q.member_id)
    if q.target_kind is not None:
        query = query.where(Reminder.target_kind == q.target_kind)

    def convert(row: Reminder) -> ReminderOut:
        fields = row.model_dump(exclude={"org_id", "amount", "pay_now", "provider_message_id", "offer_used_at"})
        return ReminderOut(**fields, amount=call.money(row.amount))

    return paginate(call.uow, query, Reminder.id, limit=q.limit, cursor=q.cursor, convert=convert)


@op(
    "GET",
    "/broadcasts",
    "broadcasts.list",
    "Broadcasts, newest first",
    tag=TAG,
    scope="reminders:read",
    query=PageQuery,
    response=Page[BroadcastOut],
)
def list_broadcasts(call: Call) -> Page[BroadcastOut]:
    q: PageQuery = call.query
    query = select(Broadcast).where(Broadcast.org_id == call.org_id)
    return paginate(call.uow, query, Broadcast.id, limit=q.limit, cursor=q.cursor, convert=BroadcastOut.of)


@op(
    "POST",
    "/broadcasts",
    "broadcasts.create",
    "Announce something to all members, a role, or a list (quiet hours respected)",
    tag=TAG,
    scope="reminders:write",
    body=BroadcastCreate,
    response=BroadcastOut,
    status=201,
    idempotent=True,
)
def create_broadcast(call: Call) -> BroadcastOut:
    body: BroadcastCreate = call.body
    if body.audience == Audience.ROLE and body.role is None:
        raise Invalid("say which role", field="role")
    found = broadcasts.create(
        call.uow,
        call.org,
        audience=body.audience,
        body_en=body.body_en,
        body_sw=body.body_sw,
        role=str(body.role) if body.role is not None else None,
        member_ids=body.member_ids,
        created_by=actor(call),
        now=call.now(),
    )
    if call.jobs.dispatch_outbound is not None:
        call.after_commit.append(call.jobs.dispatch_outbound)
    call.audit_details = {"audience": str(body.audience), "recipients": found.recipients}
    return BroadcastOut.of(found)


@op(
    "GET",
    "/broadcasts/{broadcast_id}",
    "broadcasts.get",
    "One broadcast with its delivery counts",
    tag=TAG,
    scope="reminders:read",
    response=BroadcastOut,
)
def get_broadcast(call: Call) -> BroadcastOut:
    found = broadcasts.get(call.uow, call.org_id, call.params["broadcast_id"])
    assert found.id is not None
    broadcasts.refresh_counts(call.uow, found.id)
    return BroadcastOut.of(found)


@op(
    "POST",
    "/broadcasts/{broadcast_id}/cancel",
    "broadcasts.cancel",
    "Withdraw what has not gone out yet",
    tag=TAG,
    scope="reminders:write",
    response=BroadcastOut,
)
def cancel_broadcast(call: Call) -> BroadcastOut:
    return BroadcastOut.of(broadcasts.cancel(call.uow, call.org_id, call.params["broadcast_id"]))


operations = [
    list_rules,
    create_rule,
    update_rule,
    list_reminders,
    list_broadcasts,
    create_broadcast,
    get_broadcast,
    cancel_broadcast,
]
