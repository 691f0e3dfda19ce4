"""How neutral messages become provider messages on the chat channels (WhatsApp and SMS).

The engine pages menus with a channel's :class:`~channels.base.Paginator`; these adapters give
it the WhatsApp list pages and the one-segment SMS pages, with the navigation words of the
conversation's language. Each provider message is an :class:`Outgoing`: the request body plus a
readable copy for the message log and, for SMS, how many segments it costs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from typing import Any

from bot.labels import nav_labels
from bot.settings import Settings
from channels import sms, whatsapp
from channels.base import Paginator
from channels.whatsapp.render import shorten
from core.phones import mask
from flows.i18n import t
from flows.messages import ChannelName, Menu, Message, Option, Text

_logger = logging.getLogger(__name__)

TEMPLATE_TEXT_LIMIT = 1000
"""A template's body parameter (WhatsApp caps the whole template body at 1024 characters)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Outgoing:
    """One provider message: a WhatsApp request body or an SMS text."""

    kind: str
    """``text``, ``interactive`` or ``template`` (WhatsApp), ``sms``."""
    body: Any
    content: str
    """What the recipient reads, for the message log."""
    segments: int | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Outgoing:
        return cls(**raw)


class WhatsAppPaginator:
    def page_count(self, menu: Menu, lang: str = "en", can_go_back: bool = False) -> int:
        return whatsapp.page_count(menu)


class SmsPaginator:
    def page_count(self, menu: Menu, lang: str = "en", can_go_back: bool = False) -> int:
        return sms.page_count(menu, nav_labels(lang))


PAGINATORS: dict[str, Paginator] = {ChannelName.WHATSAPP: WhatsAppPaginator(), ChannelName.SMS: SmsPaginator()}


def whatsapp_messages(
    messages: Sequence[Message], to: str, lang: str, *, page: int = 0, window_open: bool, settings: Settings
) -> list[Outgoing]:
    """Free-form messages inside the 24-hour window; outside it, the approved template carrying the text."""
    if not window_open:
        return [template(settings, to, sms_text(messages, lang, page=page))]
    labels = nav_labels(lang)
    return [
        Outgoing(str(body.get("type", "text")), body, describe(body))
        for body in whatsapp.render(messages, _wa_to(to), labels=labels, page=page)
    ]


def whatsapp_notice(text: str, to: str, lang: str, *, pay_now_payload: str | None) -> Outgoing:
    """A free-form notice; with a payload it carries a "Pay now" button that comes back as that choice."""
    message: Message = (
        Menu(text, (Option(pay_now_payload, t(lang, "channels.pay_now")),)) if pay_now_payload else Text(text)
    )
    (body,) = whatsapp.render([message], _wa_to(to), labels=nav_labels(lang))[:1]
    # The plain text is what an SMS fallback sends if WhatsApp fails later.
    return Outgoing(str(body["type"]), body, text)


def template(settings: Settings, to: str, text: str, *, button_payload: str | None = None) -> Outgoing:
    """The configured approved template (``JUMBE_WHATSAPP_TEMPLATE_NAME``) with ``text`` as its parameter."""
    if len(text) > TEMPLATE_TEXT_LIMIT:
        _logger.info("template text for %s shortened from %d characters", mask(to), len(text))
        text = shorten(text, TEMPLATE_TEXT_LIMIT)
    body = whatsapp.template_message(
        _wa_to(to),
        settings.whatsapp_template_name,
        settings.whatsapp_template_language,
        [text],
        button_payload=button_payload,
    )
    return Outgoing("template", body, f"[template {settings.whatsapp_template_name}] {text}")


def sms_text(messages: Sequence[Message], lang: str, *, page: int = 0) -> str:
    """Numbered text with "Reply with a number"; menus paged to one segment where they can be."""
    return sms.render_sms(messages, labels=nav_labels(lang), page=page)


def sms_messages(messages: Sequence[Message], lang: str, *, page: int = 0) -> list[Outgoing]:
    body = sms_text(messages, lang, page=page)
    return [sms_outgoing(body)] if body else []


def sms_outgoing(body: str) -> Outgoing:
    return Outgoing("sms", body, body, sms.segments(body))


def describe(body: dict[str, Any]) -> str:
    """The readable content of a WhatsApp request body: its text, with the options in brackets."""
    kind = body.get("type")
    if kind == "text":
        return str(body.get("text", {}).get("body", ""))
    if kind == "interactive":
        interactive = body.get("interactive", {})
        text = str(interactive.get("body", {}).get("text", ""))
        action = interactive.get("action", {})
        titles = [b.get("reply", {}).get("title", "") for b in action.get("buttons", [])]
        titles += [row.get("title", "") for section in action.get("sections", []) for row in section.get("rows", [])]
        return f"{text} [{' | '.join(titles)}]" if titles else text
    if kind == "template":
        template_ = body.get("template", {})
        params = [
            str(p.get("text", ""))
            for component in template_.get("components", [])
            for p in component.get("parameters", [])
            if p.get("type") == "text"
        ]
        return f"[template {template_.get('name', '')}] {' '.join(params)}".strip()
    return str(kind)


def _wa_to(phone: str) -> str:
    """WhatsApp ids are the E.164 digits without the plus."""
    return phone.removeprefix("+")
