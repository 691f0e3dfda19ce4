"""Every M-Pesa outcome end to end: USSD -> push to the sandbox -> its callback -> ledger -> our SMS.

One live server (uvicorn, sandbox mode, SQLite, in-process jobs); each member pays from one of
the sandbox's test numbers, which decide what the fake payer does. No internet.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlmodel import select

from bot import demo
from core import ledger, members, orgs, pins
from core.tables import AccountKind, Payment, PaymentState, Role
from tests.e2e.journey import Outbox, UssdPhone, wait_until
from tests.e2e.live import LiveServer, live_server

CASES = {
    # payer: (language, expected state, result code, words of our SMS)
    "+254708000001": ("en", PaymentState.CANCELLED, 1032, "was cancelled. Nothing was charged."),
    "+254708000002": ("sw", PaymentState.FAILED, 2001, "PIN ya M-Pesa si sahihi"),
    "+254708000003": ("en", PaymentState.FAILED, 1, "not enough money in M-Pesa"),
    "+254708000004": ("en", PaymentState.TIMEOUT, 1037, "was not answered in time"),
    "+254708000007": ("en", PaymentState.PAID, 0, "Your savings are now KES 1,000."),
    "+254708000008": ("en", PaymentState.FAILED, None, "did not go through"),
}
"""1032 cancelled, 2001 wrong PIN, 1 insufficient funds, 1037 timeout, callback before the push
response, and a push Daraja refuses (HTTP 500 "unable to lock subscriber")."""


def _enrol(server: LiveServer) -> dict[str, int]:
    ids = {}
    with server.uow() as uow:
        org = orgs.get_org(uow, demo.DEMO_SLUG)
        for n, (phone, (lang, *_)) in enumerate(CASES.items()):
            member = members.register(uow, org, phone=phone, name=f"Payer {n}", role=Role.MEMBER, language=lang)
            member.pin_hash = pins.hash_pin(demo.DEMO_PIN)
            assert member.id is not None
            ids[phone] = member.id
        uow.commit()
    return ids


def _pay_contribution(http: httpx.Client, phone: str, lang: str) -> str:
    ussd = UssdPhone(http, phone, demo.USSD_CODE)
    assert "PIN" in ussd.dial()
    screen = ussd.send(demo.DEMO_PIN)
    screen = ussd.choose(screen, "Lipa" if lang == "sw" else "Pay")
    screen = ussd.choose(screen, "Mchango" if lang == "sw" else "Contribution")
    screen = ussd.choose(screen, "Thibitisha" if lang == "sw" else "Confirm")
    assert screen.startswith("END "), screen
    return screen


def _payment(server: LiveServer, member_id: int) -> Payment | None:
    with server.uow() as uow:
        return uow.session.exec(select(Payment).where(Payment.member_id == member_id)).first()


def test_every_outcome_over_ussd_and_the_sandbox(tmp_path: Path) -> None:
    with live_server(tmp_path) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        ids = _enrol(server)
        for phone, (lang, state, code, words) in CASES.items():
            outbox = Outbox(http, phone)
            after = outbox.last_seq()
            done = _pay_contribution(http, phone, lang)
            assert ("Angalia simu yako" if lang == "sw" else "Check your phone") in done

            def settled(member: int = ids[phone], expected: PaymentState = state) -> Payment | None:
                found = _payment(server, member)
                return found if found is not None and found.state == expected else None

            payment = wait_until(settled, what=f"{phone} to end {state}")
            assert payment.result_code == code
            sms = outbox.wait(lambda i, w=words: i["kind"] == "sms" and w in i["body"], after=after, what="our SMS")
            assert sms["body"].startswith("Demo SACCO: ")
        wait_until(lambda: not server.sandbox.busy, what="the sandbox to finish")

        with server.uow() as uow:
            org = orgs.get_org(uow, demo.DEMO_SLUG)
            assert ledger.trial_balance(uow, org.id or 0) == 0
            for phone, member_id in ids.items():
                savings = ledger.balance(uow, ledger.find_account(uow, org.id or 0, AccountKind.SAVINGS, member_id))
                assert savings == (100_000 if CASES[phone][1] == PaymentState.PAID else 0), phone
            early = uow.session.exec(select(Payment).where(Payment.member_id == ids["+254708000007"])).one()
            assert early.checkout_request_id and early.mpesa_receipt and early.merchant_request_id
