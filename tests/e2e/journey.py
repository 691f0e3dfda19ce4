"""Phones for end-to-end tests: they speak to the running app exactly as the providers do."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.simulator import payloads
from bot.simulator.routes import PHONE_NUMBER_ID

Item = dict[str, Any]


def wait_until(check: Callable[[], Any], *, timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Outbox:
    """The sandbox outbox of one phone, read over the control API."""

    def __init__(self, http: httpx.Client, phone: str) -> None:
        self.http = http
        self.phone = phone

    def items(self, **filters: str) -> list[Item]:
        response = self.http.get("/sandbox/sandbox-control/outbox", params={"to": self.phone, **filters})
        response.raise_for_status()
        items: list[Item] = response.json()["items"]
        return items

    def last_seq(self) -> int:
        items = self.items()
        return int(items[-1]["seq"]) if items else 0

    def wait(self, match: Callable[[Item], bool], *, after: int = 0, what: str = "an outbox item") -> Item:
        def found() -> Item | None:
            return next((item for item in self.items() if item["seq"] > after and match(item)), None)

        item: Item = wait_until(found, what=what)
        return item


class WhatsAppPhone:
    """Sends signed Cloud API webhooks to /channels/whatsapp; reads replies from the sandbox outbox."""

    def __init__(self, http: httpx.Client, phone: str, app_secret: str) -> None:
        self.http = http
        self.phone = phone
        self.app_secret = app_secret
        self.outbox = Outbox(http, phone)

    def send(self, *, text: str | None = None, reply: payloads.Reply | None = None) -> int:
        """Send a message or a tap; return the outbox position to look for the answer after."""
        after = self.outbox.last_seq()
        webhook = payloads.whatsapp_webhook(
            wa_id=self.phone.removeprefix("+"),
            phone_number_id=PHONE_NUMBER_ID,
            display_phone_number="254711000000",
            message_id=payloads.new_wamid(),
            sent_at=datetime.now(UTC),
            text=text,
            reply=reply,
        )
        signed = payloads.sign_whatsapp(webhook, self.app_secret)
        response = self.http.post("/channels/whatsapp", content=signed.content, headers=signed.headers)
        assert response.status_code == 200, response.text
        return after

    def answer(self, after: int, contains: str) -> Item:
        return self.outbox.wait(
            lambda item: item["provider"] == "whatsapp" and contains in item["body"],
            after=after,
            what=f"a WhatsApp reply containing {contains!r}",
        )


class UssdPhone:
    """Africa's Talking USSD hops over HTTP: one session id, cumulative text."""

    def __init__(self, http: httpx.Client, phone: str, code: str) -> None:
        self.http = http
        self.phone = phone
        self.code = code
        self.session = ""
        self.inputs: list[str] = []

    def dial(self) -> str:
        self.session = f"ATUid_{uuid.uuid4().hex}"
        self.inputs = []
        return self._hop()

    def send(self, text: str) -> str:
        self.inputs.append(text)
        return self._hop()

    def choose(self, screen: str, label: str) -> str:
        """Pick the numbered option whose label contains ``label``."""
        match = re.search(rf"^(\d+)\. [^\n]*{re.escape(label)}", screen, re.MULTILINE)
        assert match, f"no option {label!r} on {screen!r}"
        return self.send(match.group(1))

    def _hop(self) -> str:
        form = {
            "sessionId": self.session,
            "serviceCode": self.code,
            "phoneNumber": self.phone,
            "networkCode": "63902",
            "text": "*".join(self.inputs),
        }
        response = self.http.post("/channels/africastalking/ussd", data=form)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
        body = response.text
        assert body.startswith(("CON ", "END ")) and len(body) <= 182, body
        return body
