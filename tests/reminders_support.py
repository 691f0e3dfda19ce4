"""Shared setup for reminder tests: an org with a borrower, fake senders that record, a clock helper."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine as DbEngine

from channels.errors import ProviderError, WindowClosed
from core import loans, members, orgs
from core.tables import AccountKind, Loan, Member, Organisation
from core.uow import UnitOfWork

NAIROBI = ZoneInfo("Africa/Nairobi")
DUE = date(2026, 11, 27)  # a Friday


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """``day hour:minute`` in Nairobi, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=NAIROBI).astimezone(UTC)


@dataclass
class Borrower:
    org: Organisation
    member: Member
    loan: Loan


def setup_borrower(
    db: DbEngine,
    *,
    phone: str = "+254711000001",
    due: date = DUE,
    language: str | None = "en",
    org_slug: str = "umoja",
    whatsapp: bool = False,
) -> Borrower:
    """An org with default rules, one member and a two-installment loan (first due on ``due``)."""
    with UnitOfWork(db) as uow:
        org = (
            orgs.get_org(uow, org_slug)
            if _exists(uow, org_slug)
            else orgs.create_org(uow, "Umoja SACCO", slug=org_slug)
        )
        if whatsapp:
            from core.tables import BindingKind

            orgs.bind(uow, org, BindingKind.WHATSAPP, f"pn-{org_slug}")
        member = members.register(uow, org, phone=phone, name="Amina Wanjiru", language=language)
        assert member.id is not None
        loan = loans.disburse(
            uow,
            org,
            member.id,
            reference=f"LN-{phone[-4:]}",
            principal=800_000,
            interest=88_400,
            schedule=[(due, 400_000, 44_200), (due + timedelta(days=30), 400_000, 44_200)],
            disbursed_on=due - timedelta(days=30),
        )
        uow.commit()
        return Borrower(org, member, loan)


def _exists(uow: UnitOfWork, slug: str) -> bool:
    from sqlmodel import select

    return uow.session.exec(select(Organisation).where(Organisation.slug == slug)).first() is not None


def repay(db: DbEngine, borrower: Borrower, amount: int, reference: str = "RCPT1") -> None:
    with UnitOfWork(db) as uow:
        loan = uow.session.get(Loan, borrower.loan.id)
        assert loan is not None
        loans.post_repayment(
            uow, borrower.org, loan, amount, source=AccountKind.MPESA_CLEARING, memo="M-Pesa", reference=reference
        )
        uow.commit()


@dataclass
class Sent:
    channel: str
    to: str
    body: str
    template: str | None = None
    buttons: Sequence[tuple[str, str]] = ()
    payload: str | None = None
    message_id: str = ""


@dataclass
class FakeSenders:
    """Records every message; ``fail`` maps a channel to an error to raise (once or always)."""

    sent: list[Sent] = field(default_factory=list)
    whatsapp_enabled: bool = True
    sms_enabled: bool = True
    fail: dict[str, list[ProviderError]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def whatsapp(self, org_id: int) -> _FakeWhatsApp | None:
        return _FakeWhatsApp(self) if self.whatsapp_enabled else None

    def sms(self, org_id: int) -> _FakeSms | None:
        return _FakeSms(self) if self.sms_enabled else None

    def record(self, item: Sent) -> str:
        with self._lock:
            errors = self.fail.get(item.channel)
            if errors:
                raise errors.pop(0) if len(errors) > 1 else errors[0]
            item.message_id = f"{item.channel}-{len(self.sent) + 1}"
            self.sent.append(item)
            return item.message_id

    def to(self, phone: str) -> list[Sent]:
        return [s for s in self.sent if s.to == phone]


class _FakeWhatsApp:
    def __init__(self, owner: FakeSenders) -> None:
        self.owner = owner

    def send_text(self, to: str, body: str, *, buttons: Sequence[tuple[str, str]] = ()) -> str:
        return self.owner.record(Sent("whatsapp", to, body, buttons=tuple(buttons)))

    def send_template(self, to: str, name: str, lang: str, params: Sequence[str], *, button_payload: str | None) -> str:
        return self.owner.record(Sent("whatsapp", to, params[0], template=name, payload=button_payload))


class _FakeSms:
    def __init__(self, owner: FakeSenders) -> None:
        self.owner = owner

    def send_text(self, to: str, body: str) -> str:
        return self.owner.record(Sent("sms", to, body))


def window_closed() -> WindowClosed:
    return WindowClosed("whatsapp", 131047, "Re-engagement message")


def transient(channel: str = "sms") -> ProviderError:
    return ProviderError(channel, 503, "busy", transient=True)
