"""What the agent owes the organisation, and paying one collection by M-Pesa from their own phone."""

from __future__ import annotations

from statemachine import State

from core import collections
from core.agent_ports import AgentGateway, PushOutcome
from core.tables import Collection, CollectionStatus
from flows.base import Flow
from flows.messages import End, Menu, Option


class PayCollection(Flow):
    name = "collections"

    listing = State(initial=True)
    confirming = State()
    requested = State(final=True)

    choose = listing.to(confirming, cond="is_open_collection", on="pick") | listing.to.itself(
        internal=True, on="explain_choice"
    )
    pay = confirming.to(requested, cond="still_open", on="request_payment") | confirming.to(listing, on="explain_gone")

    SCREEN_EXAMPLES = {"requested": {"reference": "C-000045", "amount": 999999900, "push": "started"}}

    # guards

    def is_open_collection(self, choice: str = "") -> bool:
        return self._collection(choice[1:] if choice.startswith("c") else "") is not None

    def still_open(self) -> bool:
        return self._collection(str(self.data.get("collection_id", ""))) is not None

    # actions

    def pick(self, choice: str = "") -> None:
        self.data["collection_id"] = int(choice[1:])

    def explain_choice(self) -> None:
        self.notice(self.t("common.invalid_choice"))

    def explain_gone(self) -> None:
        self.notice(self.t("collections.gone"))

    def request_payment(self) -> None:
        found = self._collection(str(self.data["collection_id"]))
        assert found is not None
        gateway: AgentGateway = self.ctx.service("agents")
        outcome = gateway.request_collection_payment(self.ctx.org.id or 0, found.id or 0, self.convo.phone)
        self.data.update(reference=found.reference, amount=found.amount, push=str(outcome))

    def _collection(self, raw_id: str) -> Collection | None:
        if not raw_id.isdigit():
            return None
        with self.ctx.uow() as uow:
            found = uow.session.get(Collection, int(raw_id))
        ok = (
            found is not None
            and found.org_id == self.ctx.org.id
            and found.agent_id == self.convo.member_id
            and found.status == CollectionStatus.OPEN
        )
        return found if ok else None

    # screens

    def screen_listing(self) -> Menu:
        with self.ctx.uow() as uow:
            owed = collections.open_for_agent(uow, self.ctx.org.id or 0, self.convo.member_id or 0)
        if not owed:
            return Menu(self.t("collections.none"), ())
        options = tuple(
            Option(
                f"c{c.id}",
                self.t("collections.row", reference=c.reference, amount=self.bare(c.amount), date=self.short(c)),
            )
            for c in owed
        )
        return Menu(self.t("collections.title", currency=self.ctx.org.currency), options)

    def screen_confirming(self) -> Menu:
        found = self._collection(str(self.data.get("collection_id", "")))
        if found is None:
            return Menu(self.t("collections.gone"), ())
        phone = self.convo.phone
        local = "0" + phone[4:] if phone.startswith("+254") else phone
        title = self.t(
            "collections.confirm",
            reference=found.reference,
            amount=self.amount(found.amount),
            date=self.date(found.due_date),
            phone=local,
        )
        return Menu(title, (Option("pay", self.t("collections.pay")),))

    def screen_requested(self) -> End:
        push = self.data.get("push", PushOutcome.STARTED)
        if push == PushOutcome.BUSY:
            return End(self.t("collections.push_busy"))
        if push == PushOutcome.FAILED:
            return End(self.t("collections.push_failed"))
        return End(
            self.t(
                "collections.push_started",
                amount=self.amount(int(self.data.get("amount", 0))),
                reference=self.data.get("reference", ""),
            )
        )

    def bare(self, minor: int) -> str:
        """The amount without its currency: the title names it, and a WhatsApp button has 20 characters."""
        return self.amount(minor).split(" ", 1)[1]

    def short(self, collection: Collection) -> str:
        return f"{collection.due_date:%d/%m}"
