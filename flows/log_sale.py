"""Log a sale: products and quantities, price if allowed, payment method, customer, PIN, receipt.

The cart lives in ``data["cart"]`` as ``[product_id, quantity, unit_price]`` triples, so a wrong
answer at any step is explained and asked again without losing what was entered. The PIN is
checked within its hop and never stored. SMS agents can skip the questions with
``SALE SUGAR1KG 2 MPESA 0712345678`` (see :mod:`flows.sale_args`).
"""

from __future__ import annotations

from typing import Any

from statemachine import State

from core import catalogue, sales
from core.agent_ports import PushOutcome
from core.errors import DomainError, Invalid
from core.tables import PaymentMethod, Product
from flows import sale_args
from flows.base import Flow
from flows.context import FlowContext
from flows.conversation import Conversation
from flows.messages import End, Menu, Option, Prompt
from flows.sale_checkout import Checkout


class LogSale(Checkout, Flow):
    name = "log_sale"

    picking = State(initial=True)
    quantity = State()
    pricing = State()
    more = State()
    method = State()
    customer = State()
    confirming = State()
    done = State(final=True)
    pending = State(final=True)
    cancelled = State(final=True)
    locked = State(final=True)
    refused = State(final=True)

    choose = picking.to(quantity, cond="is_product", on="pick_product") | picking.to.itself(
        internal=True, on="explain_product"
    )
    enter_quantity = (
        quantity.to(pricing, cond=["quantity_ok", "price_changeable"], on="keep_quantity")
        | quantity.to(more, cond="quantity_ok", on="add_at_list_price")
        | quantity.to.itself(internal=True, on="explain_quantity")
    )
    enter_price = pricing.to(more, cond="price_ok", on="add_at_price") | pricing.to.itself(
        internal=True, on="explain_price"
    )
    add = more.to(picking)
    finish = more.to(method)
    cancel = more.to(cancelled) | method.to(cancelled)
    cash = method.to(customer, on="use_cash")
    mpesa = method.to(customer, on="use_mpesa")
    enter_customer = customer.to(confirming, cond="customer_ok", on="keep_customer") | customer.to.itself(
        internal=True, on="explain_customer"
    )
    confirm_pin = confirming.to.itself(internal=True, on="check_pin_and_record")
    recorded = confirming.to(done)
    awaiting = confirming.to(pending)
    pin_locked = confirming.to(locked)
    back_to_cart = confirming.to(more)
    repick = quantity.to(picking) | pricing.to(picking)
    not_agent = picking.to(refused)
    fast_quantity = picking.to(quantity)
    fast_more = picking.to(more)
    fast_customer = picking.to(customer)
    fast_confirm = picking.to(confirming)

    SCREEN_EXAMPLES = {
        "quantity": {"product_id": 0},
        "pricing": {"product_id": 0, "quantity": 2},
        "more": {"cart": [[0, 2, 15000], [0, 10000, 999999]]},
        "method": {"cart": [[0, 2, 15000]]},
        "customer": {"cart": [[0, 2, 15000]], "method": "mpesa"},
        "confirming": {"cart": [[0, 2, 15000], [0, 1, 5000]], "method": "mpesa", "customer": "+254712345678"},
        "done": {"reference": "S-000123", "total": 999999900, "commission": 49999995, "method": "cash"},
        "pending": {"reference": "S-000123", "total": 999999900, "customer": "+254712345678", "push": "busy"},
        "locked": {"locked_until": "12:30"},
    }

    def __init__(self, convo: Conversation, ctx: FlowContext, **kwargs: Any) -> None:
        super().__init__(convo, ctx, **kwargs)
        args = self.data.pop("args", None)
        if self.convo.state != "picking":
            return
        if self.convo.role != "agent":
            self.send("not_agent")
        elif args:
            self.fast_path(sale_args.parse(args))

    # -- guards --------------------------------------------------------------------------------

    def is_product(self, choice: str = "") -> bool:
        return self._product_from_choice(choice) is not None

    def quantity_ok(self, text: str = "") -> bool:
        product = self.current_product()
        if product is None:
            return False
        try:
            self._valid_quantity(product, text)
        except Invalid:
            return False
        return True

    def price_changeable(self) -> bool:
        return bool(self.ctx.org.agents_may_change_price)

    def price_ok(self, text: str = "") -> bool:
        if self.current_product() is None:
            return False
        try:
            self.parse_price(text)
        except Invalid:
            return False
        return True

    def customer_ok(self, text: str = "") -> bool:
        try:
            self.customer_phone(text)
        except Invalid:
            return False
        return True

    # -- actions -------------------------------------------------------------------------------

    def pick_product(self, choice: str = "") -> None:
        self.data["product_id"] = int(choice[1:])

    def explain_product(self) -> None:
        self.notice(self.t("common.invalid_choice"))

    def keep_quantity(self, text: str = "") -> None:
        self.data["quantity"] = sales.parse_quantity(text)

    def add_at_list_price(self, text: str = "") -> None:
        product = self.current_product()
        assert product is not None  # guarded by quantity_ok
        self._add_line(product, sales.parse_quantity(text), product.unit_price)

    def explain_quantity(self, text: str = "") -> None:
        product = self.current_product()
        if product is None:  # taken off sale meanwhile
            self.notice(self.t("common.invalid_choice"))
            self.raise_("repick")
            return
        try:
            self._valid_quantity(product, text)
        except Invalid as exc:
            self.notice(self.quantity_error(exc, product))

    def add_at_price(self, text: str = "") -> None:
        product = self.current_product()
        assert product is not None  # guarded by price_ok
        self._add_line(product, int(self.data.pop("quantity", 1)), self.parse_price(text))

    def explain_price(self) -> None:
        if self.current_product() is None:
            self.notice(self.t("common.invalid_choice"))
            self.raise_("repick")
            return
        self.notice(self.t("sales.bad_price"))

    def use_cash(self) -> None:
        self.data["method"] = PaymentMethod.CASH.value

    def use_mpesa(self) -> None:
        self.data["method"] = PaymentMethod.MPESA.value

    def keep_customer(self, text: str = "") -> None:
        self.data["customer"] = self.customer_phone(text)

    def explain_customer(self) -> None:
        self.notice(self.t("sales.bad_phone"))

    def check_pin_and_record(self, text: str = "") -> None:
        if not self.pin_accepted(text):
            return
        try:
            sale_id = self.record()
        except DomainError as exc:
            self.notice(self.sale_error(exc))
            self.raise_("back_to_cart")
            return
        if self.data["method"] == PaymentMethod.CASH:
            self.agents().sale_recorded(self.org_id, sale_id)
            self.raise_("recorded")
            return
        outcome = self.agents().request_sale_payment(self.org_id, sale_id)
        if outcome != PushOutcome.STARTED:
            self.abandon_payment(sale_id)  # no prompt reached the customer: free the stock now
        self.data["push"] = str(outcome)
        self.raise_("awaiting")

    def _add_line(self, product: Product, quantity: int, unit_price: int) -> None:
        cart = list(self.data.get("cart", []))
        cart.append([product.id or 0, quantity, unit_price])
        self.data["cart"] = cart
        self.data["last"] = [product.id or 0, quantity]

    def _product_from_choice(self, choice: str) -> Product | None:
        if not choice.startswith("p") or not choice[1:].isdigit():
            return None
        return self.product(int(choice[1:]))

    # -- screens -------------------------------------------------------------------------------

    def screen_picking(self) -> Menu:
        with self.ctx.uow() as uow:
            products = catalogue.active_products(uow, self.org_id)
        if not products:
            return Menu(self.t("sales.no_products"), ())
        options = tuple(Option(f"p{p.id}", f"{p.name} {self.bare(p.unit_price)}", p.short_code) for p in products)
        return Menu(self.t("sales.pick"), options)

    def screen_quantity(self) -> Prompt:
        product = self.current_product()
        name = product.name if product else "?"
        return Prompt(self.t("sales.ask_quantity", product=name), expects="enter_quantity")

    def screen_pricing(self) -> Prompt:
        product = self.current_product()
        list_price = self.amount(product.unit_price) if product else "?"
        name = product.name if product else "?"
        return Prompt(self.t("sales.ask_price", product=name, price=list_price), expects="enter_price")

    def screen_more(self) -> Menu:
        options = (
            Option("add", self.t("sales.add_item")),
            Option("finish", self.t("sales.finish")),
            Option("cancel", self.t("sales.cancel")),
        )
        return Menu(self.cart_summary(), options)

    def screen_method(self) -> Menu:
        title = self.t("sales.ask_method", total=self.amount(self.cart_total()))
        options = (
            Option("cash", self.t("sales.cash")),
            Option("mpesa", self.t("sales.mpesa")),
            Option("cancel", self.t("sales.cancel")),
        )
        return Menu(title, options)

    def screen_customer(self) -> Prompt:
        key = "sales.ask_phone_mpesa" if self.data.get("method") == "mpesa" else "sales.ask_phone_cash"
        return Prompt(self.t(key), expects="enter_customer")

    def screen_confirming(self) -> Prompt:
        return Prompt(self.confirm_text(), expects="confirm_pin", secret=True)

    def screen_done(self) -> End:
        return End(
            self.t(
                "sales.recorded",
                reference=self.data.get("reference", ""),
                total=self.amount(int(self.data.get("total", 0))),
                commission=self.amount(int(self.data.get("commission", 0))),
            )
        )

    def screen_pending(self) -> End:
        push = self.data.get("push", PushOutcome.STARTED)
        key = {PushOutcome.BUSY: "sales.push_busy", PushOutcome.FAILED: "sales.push_failed"}.get(
            push, "sales.push_started"
        )
        return End(
            self.t(
                key,
                reference=self.data.get("reference", ""),
                total=self.amount(int(self.data.get("total", 0))),
                phone=self.local_phone(self.data.get("customer") or ""),
            )
        )

    def screen_cancelled(self) -> End:
        return End(self.t("sales.cancelled"))

    def screen_locked(self) -> End:
        until = self.data.get("locked_until", "")
        return End(self.t("pin.locked", minutes=self.ctx.org.pin_lock_minutes, until=until))

    def screen_refused(self) -> End:
        return End(self.t("sales.agents_only"))
