"""An officer voids a sale by its reference: postings reversed, stock returned, nothing deleted."""

from __future__ import annotations

from statemachine import State

from core import sales
from core.errors import Conflict
from core.tables import Member, Role, Sale, SaleStatus
from flows.base import Flow
from flows.messages import End, Menu, Option, Prompt


class VoidSale(Flow):
    name = "void_sale"

    asking = State(initial=True)
    confirming = State()
    done = State(final=True)

    enter_reference = asking.to(confirming, cond="is_voidable", on="keep_sale") | asking.to.itself(
        internal=True, on="explain_reference"
    )
    void = confirming.to(done, on="void_it")

    SCREEN_EXAMPLES = {"done": {"reference": "S-000123", "outcome": "done"}}

    def is_voidable(self, text: str = "") -> bool:
        if self.convo.role != Role.OFFICER:
            return False
        found = self._find(text)
        return found is not None and found.status != SaleStatus.VOIDED

    def keep_sale(self, text: str = "") -> None:
        found = self._find(text)
        assert found is not None
        self.data.update(sale_id=found.id, reference=found.reference)

    def explain_reference(self, text: str = "") -> None:
        if self.convo.role != Role.OFFICER:
            self.notice(self.t("void.officers_only"))
            self.goto("menu")
            return
        found = self._find(text)
        reference = (text or "").strip().upper()[:16]
        if found is None:
            self.notice(self.t("void.not_found", reference=reference))
        else:
            self.notice(self.t("void.already", reference=found.reference))

    def void_it(self) -> None:
        with self.ctx.uow() as uow:
            try:
                sales.void_sale(
                    uow,
                    self.ctx.org.id or 0,
                    int(self.data["sale_id"]),
                    by=f"member:{self.convo.member_id}",
                    reason="voided by officer",
                    now=self.ctx.now(),
                )
            except Conflict:
                self.data["outcome"] = "already"
                return
            uow.commit()
        self.data["outcome"] = "done"

    def _find(self, text: str) -> Sale | None:
        with self.ctx.uow() as uow:
            return sales.find_by_reference(uow, self.ctx.org.id or 0, text)

    def screen_asking(self) -> Prompt:
        return Prompt(self.t("void.ask"), expects="enter_reference")

    def screen_confirming(self) -> Menu:
        with self.ctx.uow() as uow:
            sale = uow.session.get(Sale, int(self.data.get("sale_id") or 0))
            agent = uow.session.get(Member, sale.agent_id) if sale else None
        if sale is None:
            return Menu(self.t("void.not_found", reference=self.data.get("reference", "")), ())
        title = self.t(
            "void.confirm",
            reference=sale.reference,
            total=self.amount(sale.total),
            agent=(agent.name if agent else "?")[:30],
            status=self.t(f"agent.status_{sale.status}"),
        )
        return Menu(title, (Option("void", self.t("void.void")),))

    def screen_done(self) -> End:
        key = "void.already" if self.data.get("outcome") == "already" else "void.done"
        return End(self.t(key, reference=self.data.get("reference", "")))
