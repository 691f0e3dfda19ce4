"""Helpers for the agents' tests: a payment starter over the real lifecycle, fake senders, chat phones."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

from sqlmodel import select

from bot import demo
from bot.bootstrap import Container
from bot.engine import Engine
from core import ledger, payments
from core.clock import FixedClock
from core.settlement import Report, settle
from core.tables import (
    AccountKind,
    Collection,
    Member,
    Organisation,
    Payment,
    PaymentState,
    Product,
    Sale,
    SaleItem,
)
from flows.i18n import t
from flows.messages import ChannelName, End, Inbound, Menu, Message, Prompt, Text

_ids = itertools.count(1)


class LifecycleStarter:
    """``services["payments"]``: writes the payment as core.payments does and plays the push job's part."""

    def __init__(self, container: Container) -> None:
        self.container = container
        self.started: list[int] = []

    def start(
        self,
        *,
        org_id: int,
        member_id: int,
        purpose: Any,
        amount: int,
        subject: str | None,
        idempotency_key: str,
        phone: str | None = None,
        account_reference: str | None = None,
    ) -> int:
        now = self.container.clock.now()
        with self.container.uow() as uow:
            org = uow.session.get(Organisation, org_id)
            member = uow.session.get(Member, member_id)
            assert org is not None and member is not None
            payment = payments.start_payment(
                uow,
                org,
                member,
                purpose=purpose,
                amount=amount,
                idempotency_key=idempotency_key,
                now=now,
                subject=subject,
                phone=phone,
                account_reference=account_reference,
            )
            uow.commit()
        assert payment.id is not None
        with self.container.uow() as uow:
            if payments.claim_push(uow, payment.id, now):
                payments.record_push_accepted(
                    uow,
                    payment.id,
                    merchant_request_id=f"m-{payment.id}",
                    checkout_request_id=f"ws_CO_AG{payment.id:06d}",
                    now=now,
                )
            uow.commit()
        self.started.append(payment.id)
        return payment.id


class FakeSms:
    def __init__(self, outbox: list[tuple[str, str]]) -> None:
        self.outbox = outbox

    def send_text(self, to: str, body: str) -> str:
        self.outbox.append((to, body))
        return f"sms-{next(_ids)}"


class FakeSenders:
    def __init__(self) -> None:
        self.outbox: list[tuple[str, str]] = []

    def sms(self, org_id: int) -> FakeSms:
        return FakeSms(self.outbox)

    def whatsapp(self, org_id: int) -> None:
        return None

    def to(self, phone: str) -> list[str]:
        return [body for number, body in self.outbox if number == phone]


class FakeNotifier:
    """``services["notifier"]``: writes each notice, in the member's language, to the senders' outbox."""

    def __init__(self, container: Container, outbox: list[tuple[str, str]]) -> None:
        self.container = container
        self.outbox = outbox

    def notify(self, org_id: int, member_id: int, text_key: str, **values: object) -> None:
        with self.container.uow() as uow:
            member = uow.session.get(Member, member_id)
            org = uow.session.get(Organisation, org_id)
        assert member is not None and org is not None
        self.outbox.append((member.phone, t(member.language or org.default_language, text_key, org=org.name, **values)))


@dataclasses.dataclass
class Shop:
    """The demo organisation wired for agents' tests."""

    container: Container
    org: Organisation
    starter: LifecycleStarter
    senders: FakeSenders

    @property
    def clock(self) -> FixedClock:
        clock = self.container.clock
        assert isinstance(clock, FixedClock)
        return clock

    def uow(self) -> Any:
        return self.container.uow()

    def product(self, code: str) -> Product:
        with self.uow() as uow:
            return uow.session.exec(
                select(Product).where(Product.org_id == self.org.id, Product.short_code == code)
            ).one()

    def sales(self) -> list[Sale]:
        with self.uow() as uow:
            return list(uow.session.exec(select(Sale).where(Sale.org_id == self.org.id).order_by(Sale.id)))  # type: ignore[arg-type]

    def last_sale(self) -> Sale:
        return self.sales()[-1]

    def items(self, sale: Sale) -> list[SaleItem]:
        with self.uow() as uow:
            return list(uow.session.exec(select(SaleItem).where(SaleItem.sale_id == sale.id)))

    def collection(self, reference: str = "C-000001") -> Collection:
        with self.uow() as uow:
            return uow.session.exec(select(Collection).where(Collection.reference == reference)).one()

    def agent(self) -> Member:
        with self.uow() as uow:
            return uow.session.exec(select(Member).where(Member.phone == demo.AGENT_PHONE)).one()

    def set_language(self, phone: str, lang: str) -> None:
        with self.uow() as uow:
            member = uow.session.exec(select(Member).where(Member.phone == phone)).one()
            member.language = lang
            uow.session.add(member)
            uow.commit()

    def balance(self, kind: AccountKind, member_id: int | None = None) -> int:
        with self.uow() as uow:
            return ledger.balance(uow, ledger.find_account(uow, self.org.id or 0, kind, member_id))

    def assert_books_sound(self) -> None:
        """Trial balance zero, and commission payable equals the sum of completed sales' commission."""
        with self.uow() as uow:
            assert ledger.trial_balance(uow, self.org.id or 0) == 0
        completed = [s for s in self.sales() if s.status == "completed"]
        for sale in self.sales():
            assert sale.commission == sum(i.commission for i in self.items(sale))
            assert sale.total == sum(i.line_total for i in self.items(sale))
        agent = self.agent()
        assert self.balance(AccountKind.COMMISSION_PAYABLE, agent.id) == sum(s.commission for s in completed)
        assert self.balance(AccountKind.SALES_REVENUE) == sum(s.total for s in completed)

    def payment(self, payment_id: int | None = None) -> Payment:
        with self.uow() as uow:
            return payments.get_payment(uow, payment_id or self.starter.started[-1])

    def settle(self, outcome: PaymentState, payment_id: int | None = None, code: int = 0) -> None:
        """M-Pesa's callback for the last (or given) payment, through the one compare-and-set."""
        payment = self.payment(payment_id)
        report = Report(
            source="callback",
            outcome=outcome,
            result_code=code,
            result_desc="ok" if outcome == PaymentState.PAID else f"result {code}",
            receipt=f"SBX{payment.id:07d}" if outcome == PaymentState.PAID else None,
            amount=payment.amount if outcome == PaymentState.PAID else None,
            phone=payment.phone if outcome == PaymentState.PAID else None,
            checkout_request_id=payment.checkout_request_id,
        )
        with self.uow() as uow:
            settle(uow, report, now=self.clock.now(), payment_id=payment.id)
            uow.commit()


def open_shop(container: Container, org: Organisation) -> Shop:
    starter = LifecycleStarter(container)
    senders = FakeSenders()
    container.services["payments"] = starter
    container.services["senders"] = senders
    container.services["notifier"] = FakeNotifier(container, senders.outbox)
    return Shop(container, org, starter, senders)


class OnePage:
    """A paginator for chat tests: every menu fits one screen (WhatsApp lists page on their own)."""

    def page_count(self, menu: Menu, lang: str = "en", can_go_back: bool = False) -> int:
        return 1


def render(messages: list[Message]) -> str:
    """A chat reply as plain text, options numbered, for assertions."""
    parts: list[str] = []
    for message in messages:
        if isinstance(message, Menu):
            parts.append(message.title)
            parts += [f"{n}. {o.label}" for n, o in enumerate(message.options, 1)]
        elif isinstance(message, Text | Prompt | End):
            parts.append(message.body)
    return "\n".join(parts)


class ChatPhone:
    """Drives WhatsApp or SMS conversations through the engine, as the channel jobs do."""

    def __init__(self, engine: Engine, channel: ChannelName, phone: str = demo.AGENT_PHONE) -> None:
        self.engine = engine
        self.channel = channel
        self.phone = phone
        self.last: list[Message] = []

    def send(self, text: str = "", *, choice: str | None = None) -> str:
        inbound = Inbound(
            channel=self.channel,
            provider="whatsapp" if self.channel == ChannelName.WHATSAPP else "africastalking",
            binding="*",
            phone_e164=self.phone,
            text=text,
            choice_id=choice,
            session_key=self.phone,
            provider_message_id=f"msg-{next(_ids)}",
        )
        turn = self.engine.handle(inbound, OnePage())
        self.last = turn.messages
        return render(turn.messages)

    def tap(self, label_part: str) -> str:
        """Tap the option whose label contains ``label_part`` (a WhatsApp button or list row)."""
        menu = next(m for m in reversed(self.last) if isinstance(m, Menu))
        option = next(o for o in menu.options if label_part.lower() in o.label.lower())
        return self.send(choice=option.id)

    def choose(self, label_part: str) -> str:
        """Tap the option on WhatsApp; reply with its number on SMS."""
        if self.channel == ChannelName.WHATSAPP:
            return self.tap(label_part)
        menu = next(m for m in reversed(self.last) if isinstance(m, Menu))
        number = next(n for n, o in enumerate(menu.options, 1) if label_part.lower() in o.label.lower())
        return self.send(str(number))

    @property
    def ended(self) -> bool:
        return bool(self.last) and isinstance(self.last[-1], End)
