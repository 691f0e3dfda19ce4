"""An agent's day: today's sales by payment method, this month's commission, last sales, low stock."""

from __future__ import annotations

from statemachine import State

from core import catalogue, sales_summary
from core.tables import PaymentMethod, SaleStatus
from flows.base import Flow
from flows.messages import Menu, Option

RECENT = 5
LOW_SHOWN = 4


class AgentToday(Flow):
    name = "agent_today"

    summary = State(initial=True)
    recent = State()
    stock = State()

    show_recent = summary.to(recent)
    show_stock = summary.to(stock)
    # No choices on the lists: only 0 (back) and 00 (main menu), which the engine handles.
    refresh = recent.to.itself(internal=True) | stock.to.itself(internal=True)

    def screen_summary(self) -> Menu:
        org = self.ctx.org
        today = self.ctx.today()
        agent_id = self.convo.member_id or 0
        with self.ctx.uow() as uow:
            day = sales_summary.day_summary(uow, org, agent_id, today)
            earned = sales_summary.commission_between(uow, org, agent_id, sales_summary.month_start(today), today)
        lines = [self.t("agent.today", count=day.count, total=self.amount(day.total))]
        for method, key in ((PaymentMethod.CASH, "agent.by_cash"), (PaymentMethod.MPESA, "agent.by_mpesa")):
            figures = day.by_method.get(method, sales_summary.MethodTotal())
            lines.append(self.t(key, count=figures.count, total=self.amount(figures.total)))
        if day.pending:
            lines.append(self.t("agent.pending", count=day.pending))
        lines.append(self.t("agent.commission", amount=self.amount(earned)))
        options = (Option("show_recent", self.t("agent.recent")), Option("show_stock", self.t("agent.low_stock")))
        return Menu("\n".join(lines), options)

    def screen_recent(self) -> Menu:
        with self.ctx.uow() as uow:
            rows = sales_summary.recent_sales(uow, self.ctx.org.id or 0, self.convo.member_id or 0, RECENT)
        if not rows:
            return Menu(self.t("agent.recent_empty"), ())
        lines = [self.t("agent.recent_title")]
        for sale in rows:
            amount = self.amount(sale.total).split(" ", 1)[1]
            mark = "" if sale.status == SaleStatus.COMPLETED else " " + self.t(f"agent.status_{sale.status}")
            lines.append(f"{sale.reference} {amount}{mark}")
        return Menu("\n".join(lines), ())

    def screen_stock(self) -> Menu:
        with self.ctx.uow() as uow:
            low = catalogue.low_stock(uow, self.ctx.org.id or 0)
        if not low:
            return Menu(self.t("agent.low_none"), ())
        lines = [self.t("agent.low_title")]
        lines += [self.t("agent.low_line", product=p.name[:16], left=p.stock) for p in low[:LOW_SHOWN]]
        return Menu("\n".join(lines), ())
