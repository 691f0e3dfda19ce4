"""The organisation's own settings, its channel bindings and its contribution plan."""

from __future__ import annotations

import functools
from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, Field, field_validator
from sqlmodel import select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import Amount, Deleted, Input, Money, Page, PageQuery, Str, Utc
from core import contributions, orgs
from core.errors import Invalid, NotFound
from core.tables import BindingKind, ChannelBinding, ContributionPlan, Organisation

TAG = "organisation"
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class OrganisationOut(BaseModel):
    id: int
    slug: str
    name: str
    currency: str
    timezone: str
    default_language: str
    quiet_start: str = Field(description="Local HH:MM; no reminders or broadcasts from here...")
    quiet_end: str = Field(description="...to here.")
    pin_max_attempts: int
    pin_lock_minutes: int
    min_payment: Money
    max_payment: Money
    agents_may_change_price: bool
    created_at: Utc

    @classmethod
    def of(cls, org: Organisation) -> OrganisationOut:
        assert org.id is not None
        return cls(
            id=org.id,
            slug=org.slug,
            name=org.name,
            currency=org.currency,
            timezone=org.timezone,
            default_language=org.default_language,
            quiet_start=org.quiet_start,
            quiet_end=org.quiet_end,
            pin_max_attempts=org.pin_max_attempts,
            pin_lock_minutes=org.pin_lock_minutes,
            min_payment=Money(amount=org.min_payment, currency=org.currency),
            max_payment=Money(amount=org.max_payment, currency=org.currency),
            agents_may_change_price=org.agents_may_change_price,
            created_at=org.created_at,
        )


class OrganisationUpdate(Input):
    name: Str | None = Field(default=None, min_length=1, max_length=120)
    timezone: Str | None = Field(default=None, min_length=1, max_length=64, description="IANA, e.g. Africa/Nairobi.")
    default_language: Literal["en", "sw"] | None = None
    quiet_start: str | None = Field(default=None, pattern=HHMM)
    quiet_end: str | None = Field(default=None, pattern=HHMM)
    pin_max_attempts: int | None = Field(default=None, ge=1, le=10)
    pin_lock_minutes: int | None = Field(default=None, ge=1, le=7 * 24 * 60)
    min_payment: Amount | None = None
    max_payment: Amount | None = None
    agents_may_change_price: bool | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _zones():
            raise ValueError("not an IANA time zone such as Africa/Nairobi")
        return value

    @field_validator("name")
    @classmethod
    def _has_text(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("the name needs some text")
        return value


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


class BindingOut(BaseModel):
    id: int
    kind: BindingKind
    address: str = Field(description="USSD service code, SMS short code or number, WhatsApp phone_number_id; * = all.")
    created_at: Utc

    @classmethod
    def of(cls, binding: ChannelBinding) -> BindingOut:
        assert binding.id is not None
        return cls(id=binding.id, kind=binding.kind, address=binding.address, created_at=binding.created_at)


class BindingCreate(Input):
    kind: BindingKind
    address: Str = Field(min_length=1, max_length=64)


class PlanOut(BaseModel):
    amount: Money
    day_of_month: int
    account_kind: str


class PlanUpdate(Input):
    amount: Amount
    day_of_month: int = Field(ge=1, le=31, description="Due day; short months use their last day.")
    account_kind: Literal["savings", "shares"] = "savings"


@op(
    "GET",
    "/organisation",
    "organisation.get",
    "The organisation's settings",
    tag=TAG,
    scope=None,
    response=OrganisationOut,
)
def get_organisation(call: Call) -> OrganisationOut:
    return OrganisationOut.of(call.org)


@op(
    "PATCH",
    "/organisation",
    "organisation.update",
    "Change settings: quiet hours, limits, PIN policy",
    tag=TAG,
    scope="admin",
    body=OrganisationUpdate,
    response=OrganisationOut,
)
def update_organisation(call: Call) -> OrganisationOut:
    body: OrganisationUpdate = call.body
    org = call.org
    for name in body.model_fields_set:
        value = getattr(body, name)
        if value is None:
            raise Invalid(f"{name} cannot be null", field=name)
        setattr(org, name, value.strip() if isinstance(value, str) else value)
    orgs.validate(org)
    call.uow.session.add(org)
    return OrganisationOut.of(org)


@op(
    "GET",
    "/channel-bindings",
    "bindings.list",
    "Provider addresses that lead to this organisation",
    tag=TAG,
    scope="admin",
    query=PageQuery,
    response=Page[BindingOut],
)
def list_bindings(call: Call) -> Page[BindingOut]:
    q: PageQuery = call.query
    query = select(ChannelBinding).where(ChannelBinding.org_id == call.org_id)
    return paginate(call.uow, query, ChannelBinding.id, limit=q.limit, cursor=q.cursor, convert=BindingOut.of)


@op(
    "POST",
    "/channel-bindings",
    "bindings.create",
    "Bind a USSD code, SMS number or WhatsApp number",
    tag=TAG,
    scope="admin",
    body=BindingCreate,
    response=BindingOut,
    status=201,
    idempotent=True,
)
def create_binding(call: Call) -> BindingOut:
    body: BindingCreate = call.body
    return BindingOut.of(orgs.bind(call.uow, call.org, body.kind, body.address.strip()))


@op(
    "DELETE",
    "/channel-bindings/{binding_id}",
    "bindings.delete",
    "Unbind an address",
    tag=TAG,
    scope="admin",
    response=Deleted,
)
def delete_binding(call: Call) -> Deleted:
    binding = call.uow.session.get(ChannelBinding, call.params["binding_id"])
    if binding is None or binding.org_id != call.org_id:
        raise NotFound("no such binding", field="binding_id")
    call.audit_details = {"kind": str(binding.kind), "address": binding.address}
    call.uow.session.delete(binding)
    return Deleted(id=call.params["binding_id"])


def _plan_out(call: Call, plan: ContributionPlan) -> PlanOut:
    return PlanOut(
        amount=Money(amount=plan.amount, currency=call.org.currency),
        day_of_month=plan.day_of_month,
        account_kind=plan.account_kind,
    )


@op(
    "GET",
    "/contribution-plan",
    "contribution_plan.get",
    "The regular contribution members owe",
    tag=TAG,
    scope="loans:read",
    response=PlanOut,
)
def get_plan(call: Call) -> PlanOut:
    plan = contributions.plan_of(call.uow, call.org_id)
    if plan is None:
        raise NotFound("no contribution plan yet; PUT one", field="contribution_plan")
    return _plan_out(call, plan)


@op(
    "PUT",
    "/contribution-plan",
    "contribution_plan.set",
    "Set the contribution amount and due day",
    tag=TAG,
    scope="admin",
    body=PlanUpdate,
    response=PlanOut,
)
def set_plan(call: Call) -> PlanOut:
    body: PlanUpdate = call.body
    plan = contributions.plan_of(call.uow, call.org_id) or ContributionPlan(org_id=call.org_id)
    plan.amount = body.amount
    plan.day_of_month = body.day_of_month
    plan.account_kind = body.account_kind
    call.uow.session.add(plan)
    call.uow.session.flush()
    call.resource_id = plan.id
    return _plan_out(call, plan)


operations = [
    get_organisation,
    update_organisation,
    list_bindings,
    create_binding,
    delete_binding,
    get_plan,
    set_plan,
]
