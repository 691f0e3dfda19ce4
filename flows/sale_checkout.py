"""The log-sale flow's helpers: the cart, checking the PIN, recording the sale, wording errors."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from core import catalogue, money, pins, sales
from core.agent_ports import AgentGateway
from core.errors import DomainError, Invalid, PinLocked, PinNotSet, WrongPin
from core.tables import Member, PaymentMethod, Product
from flows import sale_args
from flows.base import Flow

MAX_ITEMS_SHOWN = 2
SKIP_WORDS = frozenset({"1", "SKIP", "RUKA"})


class Checkout(Flow):
    """Shared by the sale flow's states; no states of its own."""

    @property
    def org_id(self) -> int:
        return self.ctx.org.id or 0

    def agents(self) -> AgentGateway:
        gateway: AgentGateway = self.ctx.service("agents")
        return gateway

    def product(self, product_id: int) -> Product | None:
        with self.ctx.uow() as uow:
            found = uow.session.get(Product, product_id)
        if found is None or found.org_id != self.org_id or not found.active:
            return None
        return found

    def current_product(self) -> Product | None:
        return self.product(int(self.data.get("product_id") or 0))

    def bare(self, minor: int) -> str:
        """An amount without the currency code, for tight menu rows."""
        return money.format_amount(minor, self.ctx.org.currency).split(" ", 1)[1]

    def local_phone(self, e164: str) -> str:
        return "0" + e164[4:] if e164.startswith("+254") else e164

    def cart(self) -> list[list[int]]:
        return [list(map(int, line)) for line in self.data.get("cart", [])]

    def cart_total(self) -> int:
        return sum(quantity * price for _, quantity, price in self.cart())

    def cart_items(self) -> int:
        return sum(quantity for _, quantity, _ in self.cart())

    def cart_summary(self) -> str:
        lines = []
        last = self.data.get("last")
        if last:
            product = self.product(int(last[0]))
            if product is not None:
                lines.append(self.t("sales.added", quantity=int(last[1]), product=product.name))
        lines.append(self.t("sales.cart", items=self.cart_items(), total=self.amount(self.cart_total())))
        return "\n".join(lines)

    def confirm_text(self) -> str:
        shown = []
        for product_id, quantity, _ in self.cart()[:MAX_ITEMS_SHOWN]:
            product = self.product(product_id)
            shown.append(f"{quantity} x {product.name if product else '?'}")
        if len(self.cart()) > MAX_ITEMS_SHOWN:
            shown.append("...")
        method = self.data.get("method") or "cash"
        how = self.t("sales.mpesa") if method == "mpesa" else self.t("sales.cash")
        customer = self.data.get("customer")
        if customer:
            how += " " + self.local_phone(customer)
        return self.t("sales.confirm", items=", ".join(shown), total=self.amount(self.cart_total()), method=how)

    def customer_phone(self, text: str) -> str | None:
        """The customer's number in E.164, or None when a cash sale skips it.

        Raises:
            Invalid: not a phone number (for M-Pesa: not a Kenyan mobile number).
        """
        mpesa = self.data.get("method") == PaymentMethod.MPESA
        if not mpesa and text.strip().upper() in SKIP_WORDS:
            return None
        return sales.mpesa_customer(text) if mpesa else sales.parse_customer_phone(text)

    def parse_price(self, text: str) -> int:
        return money.parse_whole_amount(text, self.ctx.org.currency)

    def quantity_error(self, exc: Invalid, product: Product | None) -> str:
        if exc.field == "stock":
            return self.t("sales.only_left", left=exc.message, product=product.name if product else "?")
        return self.t("sales.bad_quantity", max=f"{sales.MAX_QUANTITY:,}")

    def sale_error(self, exc: DomainError) -> str:
        if exc.field == "quantity":
            return self.t("sales.out_of_stock")
        if exc.field == "unit_price":
            return self.t("sales.price_locked")
        if exc.field == "customer_phone":
            return self.t("sales.bad_phone")
        if exc.field == "payment_method":
            org = self.ctx.org
            return self.t("sales.mpesa_limits", low=self.amount(org.min_payment), high=self.amount(org.max_payment))
        return self.t("sales.failed")

    def _valid_quantity(self, product: Product | None, text: str) -> int:
        quantity = sales.parse_quantity(text)
        if product is not None and product.stock is not None:
            in_cart = sum(q for pid, q, _ in self.data.get("cart", []) if pid == product.id)
            if quantity + in_cart > product.stock:
                raise Invalid(str(max(product.stock - in_cart, 0)), field="stock")
        return quantity

    def pin_accepted(self, text: str) -> bool:
        """Check the agent's PIN (with lock-out); the PIN is used here and forgotten."""
        with self.ctx.uow() as uow:
            member = uow.session.get(Member, self.convo.member_id)
            assert member is not None
            try:
                pins.verify_pin(member, self.ctx.org, text.strip(), self.ctx.clock)
            except PinNotSet:
                self.notice(self.t("sales.pin_not_set"))
                self.goto("pin", then="menu")
                return False
            except WrongPin as wrong:
                self.notice(self.t("pin.wrong", left=wrong.attempts_left))
                return False
            except PinLocked as lock:
                self.data["locked_until"] = f"{lock.until.astimezone(ZoneInfo(self.ctx.org.timezone)):%H:%M}"
                self.raise_("pin_locked")
                return False
            finally:
                uow.session.add(member)
                uow.commit()
        return True

    def record(self) -> int:
        """Write the sale from the cart; returns its id and keeps its receipt figures in ``data``."""
        lines = [sales.Line(product_id, quantity, price) for product_id, quantity, price in self.cart()]
        with self.ctx.uow() as uow:
            agent = uow.session.get(Member, self.convo.member_id)
            assert agent is not None
            sale = sales.record_sale(
                uow,
                self.ctx.org,
                agent,
                lines,
                method=PaymentMethod(self.data.get("method") or "cash"),
                customer_phone=self.data.get("customer"),
                now=self.ctx.now(),
            )
            uow.commit()
        self.data.update(reference=sale.reference, total=sale.total, commission=sale.commission)
        self.data.pop("cart", None)
        return sale.id or 0

    def abandon_payment(self, sale_id: int) -> None:
        with self.ctx.uow() as uow:
            sales.fail_payment(uow, sale_id)
            uow.commit()

    # -- the SMS fast path -------------------------------------------------------------------

    def fast_path(self, parsed: sale_args.SaleArgs) -> None:
        cart: list[list[int]] = []
        with self.ctx.uow() as uow:
            for code, quantity_text in parsed.lines:
                product = catalogue.find_by_code(uow, self.org_id, code)
                if product is None or not product.active:
                    self.notice(self.t("sales.unknown_code", code=code[:16]))
                    self.data["cart"] = cart
                    if cart:
                        self.send("fast_more")
                    return
                self.data["cart"] = cart
                self.data["product_id"] = product.id
                try:
                    quantity = self._valid_quantity(product, quantity_text)
                except Invalid as exc:
                    if quantity_text:
                        self.notice(self.quantity_error(exc, product))
                    self.send("fast_quantity")
                    return
                cart.append([product.id or 0, quantity, product.unit_price])
        self.data["cart"] = cart
        if not cart:
            return
        self.data["method"] = parsed.method or "cash"
        if parsed.method == "mpesa" or parsed.phone:
            try:
                self.data["customer"] = self.customer_phone(parsed.phone or "")
            except Invalid:
                if parsed.phone:
                    self.notice(self.t("sales.bad_phone"))
                self.send("fast_customer")
                return
        self.send("fast_confirm")
