"""Pay by M-Pesa: choose what to pay (showing what is due), the amount, confirm; the prompt comes by push.

The flow never waits on M-Pesa: confirming writes the payment and queues its push
(``services["payments"]``, a :class:`core.ports.PaymentStarter`), then says "check your phone";
on USSD that ends the session. The outcome arrives later as a message.

Opened pre-filled from elsewhere (a reminder's "Pay now", ``PAY 500`` by SMS) with any of:
``purpose`` ("loan_repayment" / "loan" / "contribution"), ``loan_id``, ``installment_id`` or
``reference`` (the loan's), ``cycle``, ``amount`` (minor units), ``args`` (the SMS keyword's rest).
With a purpose and an amount it opens straight at the confirmation.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from statemachine import State

from core import contributions, loans, money, payments
from core.errors import Invalid
from core.payments import PaymentInProgress
from core.phones import mask
from core.tables import Installment, Loan, PaymentPurpose
from flows.base import Flow
from flows.messages import End, Menu, Message, Option, Prompt, Text

CONTRIBUTION = "contribution"
LOAN = "loan:"
_LOAN_PURPOSES = ("loan", "loan_repayment")


class PayFlow(Flow):
    choosing = State(initial=True)
    entering = State()
    confirming = State()
    started = State(final=True)
    busy = State(final=True)

    choose = (
        choosing.to(confirming, cond="has_amount_for", on="pick")
        | choosing.to(entering, cond="is_purpose", on="pick")
        | choosing.to.itself(internal=True, on="explain_choice")
    )
    enter_amount = entering.to(confirming, cond="amount_is_valid", on="keep_amount") | entering.to.itself(
        internal=True, on="explain_amount"
    )
    confirm = confirming.to.itself(internal=True, on="request_payment")
    change = confirming.to(entering)
    cancel = confirming.to.itself(internal=True, on="drop_payment")
    requested = confirming.to(started)
    waiting = confirming.to(busy)

    SCREEN_EXAMPLES = {
        "entering": {"purpose": "loan:1", "loan_ref": "LN-00000000000000001", "owed": 15_000_000},
        "confirming": {"purpose": "loan:1", "loan_ref": "LN-00000000000000001", "amount": 15_000_000},
        "started": {"purpose": CONTRIBUTION, "cycle": "2026-11", "amount": 15_000_000},
    }

    # -- entry: pre-filled data ---------------------------------------------------------

    def on_enter_choosing(self) -> None:
        data = self.data
        if "args" in data:
            args = str(data.pop("args") or "").strip()
            if args:
                try:
                    data["amount"] = money.parse_whole_amount(args, self.ctx.org.currency)
                except Invalid:
                    self.notice(self.t("pay.amount_not_whole"))
        choice = self._preset_choice()
        if choice is not None:
            self.raise_("choose", choice=choice)

    def _preset_choice(self) -> str | None:
        purpose = str(self.data.get("purpose") or "")
        if purpose == CONTRIBUTION:
            return CONTRIBUTION
        if purpose not in _LOAN_PURPOSES:
            return None
        with self.ctx.uow() as uow:
            mine = loans.active_loans(uow, self.ctx.org.id or 0, self.convo.member_id or 0)
            wanted = self.data.get("loan_id")
            if wanted is None and self.data.get("installment_id") is not None:
                inst = uow.session.get(Installment, int(self.data["installment_id"]))
                wanted = inst.loan_id if inst is not None else None
            reference = self.data.get("reference")
        picked = [
            loan for loan in mine if loan.id == wanted or (wanted is None and reference and loan.reference == reference)
        ]
        if not picked and wanted is None and not reference and len(mine) == 1:
            picked = mine
        return f"{LOAN}{picked[0].id}" if picked else None

    # -- guards -------------------------------------------------------------------------

    def is_purpose(self, choice: str = "") -> bool:
        return choice in self._options()

    def has_amount_for(self, choice: str = "") -> bool:
        if not self.is_purpose(choice):
            return False
        given = self.data.get("amount")
        if isinstance(given, int):
            return self._problem(given, self._owed(choice)) is None
        return self._suggested(choice) > 0

    def amount_is_valid(self, text: str = "") -> bool:
        try:
            amount = money.parse_whole_amount(text, self.ctx.org.currency)
        except Invalid:
            return False
        return self._problem(amount, self.data.get("owed")) is None

    # -- actions ------------------------------------------------------------------------

    def pick(self, choice: str = "") -> None:
        label = self._options()[choice]
        given = self.data.get("amount")
        self.data.update(purpose=choice, owed=self._owed(choice), **label)
        if isinstance(given, int):
            problem = self._problem(given, self.data["owed"])
            if problem is not None:
                self.notice(problem)
                self.data.pop("amount")
            return
        suggested = self._suggested(choice)
        if suggested > 0:
            self.data["amount"] = suggested

    def explain_choice(self) -> None:
        self.notice(self.t("common.invalid_choice"))

    def keep_amount(self, text: str = "") -> None:
        self.data["amount"] = money.parse_whole_amount(text, self.ctx.org.currency)

    def explain_amount(self, text: str = "") -> None:
        try:
            amount = money.parse_whole_amount(text, self.ctx.org.currency)
        except Invalid:
            self.notice(self.t("pay.amount_not_whole"))
            return
        self.notice(self._problem(amount, self.data.get("owed")) or self.t("pay.amount_not_whole"))

    def on_enter_confirming(self) -> None:
        # One key per confirmation screen: a repeated "confirm" hop finds the same payment.
        self.data["key"] = uuid.uuid4().hex

    def request_payment(self) -> None:
        purpose = str(self.data["purpose"])
        try:
            self.ctx.service("payments").start(
                org_id=self.ctx.org.id or 0,
                member_id=self.convo.member_id or 0,
                purpose=PaymentPurpose.CONTRIBUTION if purpose == CONTRIBUTION else PaymentPurpose.LOAN_REPAYMENT,
                amount=int(self.data["amount"]),
                subject=self.data.get("cycle") if purpose == CONTRIBUTION else purpose.removeprefix(LOAN),
                idempotency_key=f"pay:{self.ctx.org.id}:{self.convo.member_id}:{self.data['key']}",
            )
        except PaymentInProgress:
            self.raise_("waiting")
            return
        except Invalid as exc:
            self.notice(self.t("pay.bad_phone") if exc.field == "phone" else exc.message)
            return
        self.raise_("requested")

    def drop_payment(self) -> None:
        self.notice(self.t("pay.cancelled"))
        self.goto("menu")

    # -- screens ------------------------------------------------------------------------

    def screen_choosing(self) -> Menu:
        lines = [self.t("pay.choose_title")]
        options = []
        for choice, label in self._options().items():
            if choice == CONTRIBUTION:
                options.append(Option(choice, self.t("pay.option_contribution")))
                if label["due"]:
                    lines.append(
                        self.t("pay.due_contribution", cycle=_cycle(label["cycle"]), amount=self.amount(label["due"]))
                    )
            else:
                options.append(Option(choice, self.t("pay.option_loan", loan=label["loan_ref"])))
                if label["due"] and len(lines) < 2:  # the soonest loan's installment; the screen is small
                    lines.append(
                        self.t(
                            "pay.due_loan",
                            loan=label["loan_ref"],
                            amount=self.amount(label["due"]),
                            date=label["due_date"],
                        )
                    )
        return Menu("\n".join(lines), tuple(options))

    def screen_entering(self) -> Prompt:
        org = self.ctx.org
        most = min(org.max_payment, self.data.get("owed") or org.max_payment)
        return Prompt(
            self.t(
                "pay.enter_amount", least=self.amount(org.min_payment), most=self.amount(max(most, org.min_payment))
            ),
            expects="enter_amount",
        )

    def screen_confirming(self) -> Menu:
        values = {"amount": self.amount(int(self.data["amount"])), "phone": mask(self.convo.phone)}
        if self.data.get("purpose") == CONTRIBUTION:
            title = self.t("pay.confirm_contribution", cycle=_cycle(self.data.get("cycle")), **values)
        else:
            title = self.t("pay.confirm_loan", loan=self.data.get("loan_ref", ""), **values)
        return Menu(
            title,
            (
                Option("confirm", self.t("pay.confirm")),
                Option("change", self.t("pay.change")),
                Option("cancel", self.t("pay.cancel")),
            ),
        )

    def screen_started(self) -> Message:
        return self._last(self.t("pay.started", amount=self.amount(int(self.data.get("amount") or 0))))

    def screen_busy(self) -> Message:
        return self._last(self.t("pay.busy", minutes=int(payments.OPEN_WINDOW.total_seconds() // 60)))

    def _last(self, body: str) -> Message:
        # USSD closes the session (the M-Pesa prompt needs the phone); chat stays open.
        return End(body) if self.convo.channel == "ussd" else Text(body)

    # -- what can be paid ---------------------------------------------------------------

    def _options(self) -> dict[str, dict[str, Any]]:
        """``{choice: details}``: each active loan (soonest installment first), then the contribution.

        Read once per flow instance: the engine builds a fresh flow for every hop.
        """
        cached: dict[str, dict[str, Any]] | None = self.__dict__.get("_options_cache")
        if cached is None:
            cached = self.__dict__["_options_cache"] = self._read_options()
        return cached

    def _read_options(self) -> dict[str, dict[str, Any]]:
        org_id, member_id = self.ctx.org.id or 0, self.convo.member_id or 0
        found: dict[str, dict[str, Any]] = {}
        with self.ctx.uow() as uow:
            rows = [(loan, loans.next_due(uow, loan)) for loan in loans.active_loans(uow, org_id, member_id)]
            rows.sort(key=lambda row: (row[1].installment.due_date if row[1] else date.max, row[0].id or 0))
            for loan, due in rows:
                found[f"{LOAN}{loan.id}"] = {
                    "loan_ref": loan.reference,
                    "due": due.amount if due else 0,
                    "due_date": self.date(due.installment.due_date) if due else "",
                }
            cycle = self.data.get("cycle") or contributions.cycle_of(self.ctx.today())
            current = contributions.current_due(uow, org_id, member_id, self.ctx.today())
            left = current.remaining if current is not None and current.cycle == cycle else 0
        found[CONTRIBUTION] = {"cycle": cycle, "due": left}
        return found

    def _suggested(self, choice: str) -> int:
        return int(self._options().get(choice, {}).get("due") or 0)

    def _owed(self, choice: str) -> int | None:
        """The whole outstanding balance of a loan (most one may pay); None for contributions."""
        if not choice.startswith(LOAN):
            return None
        with self.ctx.uow() as uow:
            loan = uow.session.get(Loan, int(choice.removeprefix(LOAN)))
            return sum(due.amount for due in loans.outstanding(uow, loan)) if loan is not None else None

    def _problem(self, amount: int, owed: int | None) -> str | None:
        """Why ``amount`` cannot be paid, in the member's language, or None."""
        org = self.ctx.org
        if amount < org.min_payment:
            return self.t("pay.amount_too_small", least=self.amount(org.min_payment))
        if owed is not None and amount > owed:
            return self.t("pay.amount_over_loan", owed=self.amount(owed))
        if amount > org.max_payment:
            return self.t("pay.amount_too_big", most=self.amount(org.max_payment))
        return None


def _cycle(cycle: object) -> str:
    """``"2026-11"`` as people write it: ``11/2026``."""
    year, _, month = str(cycle or "").partition("-")
    return f"{month}/{year}" if month else str(cycle or "")
