"""A member's whole journey through the running app and the provider sandbox, with no internet.

WhatsApp balance check -> USSD payment of a loan installment by STK push, whose callback the
sandbox delivers twice -> the M-Pesa SMS and our confirmation SMS in the outbox -> the ledger
moved exactly once, and WhatsApp shows the new balance.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
from sqlmodel import col, select

from bot import demo
from bot.simulator import payloads
from core import ledger, loans, members, orgs, pins
from core.tables import AccountKind, LedgerTransaction, Payment, PaymentState, Role
from tests.e2e.journey import Outbox, UssdPhone, WhatsAppPhone, wait_until
from tests.e2e.live import LiveServer, live_server

PAYER = "+254708000006"
"""The sandbox's duplicate-callback test payer: every successful push is confirmed twice."""
LOAN = "LN-0002"


def enrol(server: LiveServer) -> int:
    """Add Faith, who pays from the duplicate-callback number, with a KES 20,000 loan.

    She chats on WhatsApp but asked for money notices by SMS (her channel preference), so the
    confirmation goes by SMS although her WhatsApp window is open.
    """
    with server.uow() as uow:
        org = orgs.get_org(uow, demo.DEMO_SLUG)
        faith = members.register(uow, org, phone=PAYER, name="Faith Njeri", role=Role.MEMBER, language="en")
        faith.pin_hash = pins.hash_pin(demo.DEMO_PIN)
        faith.preferred_channel = "sms"
        assert faith.id is not None
        today = server.container.clock.now().date()
        schedule = [(today + timedelta(days=6 + 30 * i), 400_000, 44_200) for i in range(5)]
        loans.disburse(
            uow,
            org,
            faith.id,
            reference=LOAN,
            principal=2_000_000,
            interest=221_000,
            schedule=schedule,
            disbursed_on=today - timedelta(days=24),
        )
        uow.commit()
        return faith.id


def loan_balance(server: LiveServer, member_id: int) -> int:
    with server.uow() as uow:
        org = orgs.get_org(uow, demo.DEMO_SLUG)
        [loan] = loans.active_loans(uow, org.id or 0, member_id)
        account = ledger.find_account(uow, org.id or 0, AccountKind.LOAN_PRINCIPAL, member_id, loan.id)
        return ledger.balance(uow, account)


def test_member_journey_over_whatsapp_ussd_mpesa_and_sms(tmp_path: Path) -> None:
    with live_server(tmp_path) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        faith = enrol(server)
        secret = server.container.settings.whatsapp_app_secret.get_secret_value()

        # 1. WhatsApp: hello, PIN, then "Balances" from the menu list.
        chat = WhatsAppPhone(http, PAYER, secret)
        chat.answer(chat.send(text="hi"), "PIN")
        menu = chat.answer(chat.send(text=demo.DEMO_PIN), "Demo SACCO")
        rows = [row for section in menu["payload"]["interactive"]["action"]["sections"] for row in section["rows"]]
        balances_row = next(row for row in rows if row["title"] == "Balances")
        reply = payloads.Reply("list_reply", balances_row["id"], balances_row["title"])
        assert "Loan: KES 20,000" in chat.answer(chat.send(reply=reply), "Loan:")["body"]
        assert loan_balance(server, faith) == 2_000_000

        # 2. USSD: pay the next installment of the loan by M-Pesa.
        outbox = Outbox(http, PAYER)
        before_payment = outbox.last_seq()
        ussd = UssdPhone(http, PAYER, demo.USSD_CODE)
        assert "PIN" in ussd.dial()
        screen = ussd.send(demo.DEMO_PIN)
        screen = ussd.choose(screen, "Pay")
        screen = ussd.choose(screen, LOAN)
        assert "KES 4,442" in screen
        done = ussd.choose(screen, "Confirm")
        assert done.startswith("END ") and "M-Pesa" in done

        # 3. The sandbox prompts the phone, pays, and calls back twice; the member gets both SMS.
        push = outbox.wait(lambda i: i["kind"] == "stk_push", after=before_payment, what="the STK push")
        assert push["payload"]["amount"] == 4442
        receipt_sms = outbox.wait(lambda i: i["kind"] == "mpesa_receipt", after=before_payment, what="M-Pesa SMS")
        receipt = receipt_sms["ids"]["MpesaReceiptNumber"]
        confirmation = outbox.wait(
            lambda i: i["kind"] == "sms" and i["provider"] == "africastalking" and receipt in i["body"],
            after=before_payment,
            what="our confirmation SMS",
        )
        assert "KES 4,442" in confirmation["body"] and LOAN in confirmation["body"]
        wait_until(lambda: server.requests.count("POST", "/payments/mpesa/callback/") == 2, what="2 callbacks")
        wait_until(lambda: not server.sandbox.busy, what="the sandbox to finish delivering")

        # 4. The duplicate changed nothing: one payment, one posting, one confirmation, books balanced.
        with server.uow() as uow:
            [payment] = uow.session.exec(select(Payment).where(Payment.member_id == faith)).all()
            assert payment.state == PaymentState.PAID
            assert payment.mpesa_receipt == receipt and payment.amount == 444_200
            postings = uow.session.exec(
                select(LedgerTransaction).where(col(LedgerTransaction.id) == payment.ledger_transaction_id)
            ).all()
            assert len(postings) == 1
            assert ledger.trial_balance(uow, payment.org_id) == 0
        assert loan_balance(server, faith) == 2_000_000 - 400_000
        sms_to_faith = [i for i in outbox.items(kind="sms") if receipt in i["body"]]
        assert len(sms_to_faith) == 1
        assert len(outbox.items(kind="mpesa_receipt")) == 1
        assert not [i for i in outbox.items(provider="whatsapp") if receipt in i["body"]]

        # 5. WhatsApp sees the new balance; so does the simulator's side panel.
        again = chat.answer(chat.send(reply=reply), "Loan:")
        assert "Loan: KES 16,000" in again["body"]
        view = http.get("/simulator/api/balances", params={"phone": PAYER}).json()
        loan_row = next(a for a in view["accounts"] if a["kind"] == "loan_principal")
        assert loan_row["minor"] == 1_600_000 and view["books_balanced"] is True
