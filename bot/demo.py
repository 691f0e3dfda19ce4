"""The demo organisation: seeded idempotently, so ``jumbe demo`` can run again and again."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot import demo_trade
from core import contributions, ledger, loans, members, orgs, pins, reminder_rules
from core.clock import Clock
from core.tables import AccountKind, BindingKind, ContributionPlan, Member, Organisation, Role
from core.uow import UnitOfWork

DEMO_SLUG = "demo"
USSD_CODE = "*384*1#"
MEMBER_PHONE = "+254700000001"
AGENT_PHONE = "+254700000002"
DEMO_PIN = "1234"

_PEOPLE = [
    (MEMBER_PHONE, "Amina Wanjiru", Role.MEMBER),
    (AGENT_PHONE, "Brian Otieno", Role.AGENT),
    ("+254700000003", "Chebet Kiprono", Role.MEMBER),
    ("+254700000004", "David Mwangi", Role.MEMBER),
    ("+254700000005", "Esther Achieng", Role.OFFICER),
]


def seed(uow: UnitOfWork, clock: Clock) -> Organisation:
    """Create "Demo SACCO" with members, balances and an active loan, unless it exists."""
    existing = uow.session.exec(select(Organisation).where(Organisation.slug == DEMO_SLUG)).first()
    if existing is not None:
        if not reminder_rules.active_rules(uow, existing.id or 0):
            reminder_rules.seed_defaults(uow, existing)  # a demo database from before reminders
            uow.commit()
        demo_trade.seed(uow, existing, clock, AGENT_PHONE)  # a demo database from before agents' trade
        uow.commit()
        return existing
    org = orgs.create_org(uow, "Demo SACCO", slug=DEMO_SLUG)
    assert org.id is not None
    for kind in BindingKind:
        orgs.bind(uow, org, kind, orgs.CATCH_ALL)
    orgs.bind(uow, org, BindingKind.USSD, USSD_CODE)
    uow.session.add(ContributionPlan(org_id=org.id, amount=100_000, day_of_month=5))
    people: dict[str, Member] = {}
    for phone, name, role in _PEOPLE:
        member = members.register(uow, org, phone=phone, name=name, role=role)
        member.pin_hash = pins.hash_pin(DEMO_PIN)
        people[phone] = member
    today = clock.now().date()
    amina = people[MEMBER_PHONE]
    assert amina.id is not None
    cash = ledger.account(uow, org.id, AccountKind.CASH)
    for months_ago, amount in ((3, 500_000), (2, 500_000), (1, 250_000)):
        day = today - timedelta(days=30 * months_ago)
        contributions.post_contribution(
            uow,
            org,
            amina.id,
            amount,
            cycle=contributions.cycle_of(day),
            source=AccountKind.CASH,
            memo="Contribution (cash)",
            reference=f"DEMO-C{months_ago}",
        )
    shares = ledger.account(uow, org.id, AccountKind.SHARES, amina.id)
    ledger.post(
        uow,
        org.id,
        "shares",
        [(cash, 500_000), (shares, -500_000)],
        memo="Share capital",
        reference="DEMO-S1",
    )
    first_due = today + timedelta(days=6)
    schedule = [(first_due + timedelta(days=30 * i), 400_000, 44_200) for i in range(10)]
    loans.disburse(
        uow,
        org,
        amina.id,
        reference="LN-0001",
        principal=4_000_000,
        interest=442_000,
        schedule=schedule,
        disbursed_on=today - timedelta(days=24),
    )
    for phone in ("+254700000003", "+254700000004"):
        other = people[phone]
        assert other.id is not None
        contributions.post_contribution(
            uow,
            org,
            other.id,
            300_000,
            cycle=contributions.cycle_of(today),
            source=AccountKind.CASH,
            memo="Contribution (cash)",
            reference=f"DEMO-{other.member_no}",
        )
    demo_trade.seed(uow, org, clock, AGENT_PHONE)
    uow.commit()
    return org
