"""Render channel-neutral messages as WhatsApp Cloud API ``/messages`` request bodies.

Limits (Meta's interactive-message reference, as pywa documents them): up to 3 reply buttons
with titles of at most 20 characters; a list of at most 10 rows with titles of at most 24 and
descriptions of at most 72 characters, an action button of at most 20; interactive bodies of at
most 1024 and footers of at most 60 characters; text messages of at most 4096 characters.

A menu of more than 10 options becomes a paged list. Page 0 shows 9 options and a "More" row
(:data:`MORE_ID`); later pages show a "Back" row (:data:`BACK_ID`) and, unless they are the last,
8 options and "More"; the last page shows up to 9 options. The engine turns those two ids into
page changes and re-renders with ``page``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from channels.base import NavLabels
from flows.messages import End, Menu, Message, Option, Prompt, Text

_logger = logging.getLogger(__name__)

JSONBody = dict[str, Any]

TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
FOOTER_LIMIT = 60
MAX_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
MAX_ROWS = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
LIST_BUTTON_LIMIT = 20

MORE_ID = "__more__"
"""Row id of "More" in a paged list: the engine shows the next page."""
BACK_ID = "__back__"
"""Row id of "Back" in a paged list (pages after the first): the engine shows the previous page."""

_ELLIPSIS = "…"
_DEFAULT_LABELS = {"more": "More", "back": "Back", "choose": "Choose"}


def render(messages: Sequence[Message], to: str, *, labels: NavLabels, page: int = 0) -> list[JSONBody]:
    """Build the request bodies that show ``messages`` to ``to``, in order.

    Args:
        messages: one reply of a flow (texts, then at most one screen).
        to: the recipient's phone number or wa_id.
        labels: navigation words in the user's language; ``choose`` names the list button,
            ``more`` and ``back`` the paging rows.
        page: which page of a long menu to show; when 0, the menu's own ``page`` is used.

    Returns:
        One JSON body per WhatsApp message to send, in order.
    """
    bodies: list[JSONBody] = []
    for message in messages:
        if isinstance(message, Menu) and not message.options:
            text = "\n".join(part for part in (message.title, message.footer) if part.strip())
            bodies.extend(_text(to, chunk) for chunk in split_text(text))
        elif isinstance(message, Menu):
            bodies.append(_menu(message, to, labels, page or message.page))
        elif isinstance(message, Text | Prompt | End):
            bodies.extend(_text(to, chunk) for chunk in split_text(message.body))
    return bodies


def template_message(
    to: str,
    name: str,
    language: str,
    parameters: Sequence[str] = (),
    *,
    button_payload: str | None = None,
    button_index: int = 0,
) -> JSONBody:
    """A message from an approved template, for use outside the 24-hour window.

    Args:
        to: the recipient.
        name: the template's name as approved ("payment_reminder").
        language: its language code ("en", "sw").
        parameters: the body's ``{{1}}``, ``{{2}}``... values, in order.
        button_payload: the payload of a quick-reply button ("Pay now"); it comes back as the
            ``choice_id`` of the user's tap.
        button_index: the position of that button in the template.
    """
    components: list[JSONBody] = []
    if parameters:
        components.append({"type": "body", "parameters": [{"type": "text", "text": _parameter(p)} for p in parameters]})
    if button_payload is not None:
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": str(button_index),
                "parameters": [{"type": "payload", "payload": button_payload}],
            }
        )
    template: JSONBody = {"name": name, "language": {"code": language}}
    if components:
        template["components"] = components
    return {**_envelope(to), "type": "template", "template": template}


def page_count(menu: Menu) -> int:
    """How many list pages ``menu`` needs (1 for buttons and short lists)."""
    return len(_page_bounds(len(menu.options)))


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending with an ellipsis when something was cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + _ELLIPSIS


def split_text(body: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split ``body`` into chunks of at most ``limit`` characters, at a line break or space if any."""
    chunks: list[str] = []
    rest = body.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 1, limit + 1)
        if cut < 1:
            cut = rest.rfind(" ", 1, limit + 1)
        if cut < 1:
            chunk, rest = rest[:limit], rest[limit:]
        else:
            chunk, rest = rest[:cut], rest[cut + 1 :]
        if chunk.strip():
            chunks.append(chunk.rstrip())
        rest = rest.lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def _menu(menu: Menu, to: str, labels: NavLabels, page: int) -> JSONBody:
    if len(menu.options) <= MAX_BUTTONS:
        titles = [shorten(option.label, BUTTON_TITLE_LIMIT) for option in menu.options]
        # Meta rejects two buttons with the same title; shortening can create that, a list cannot.
        if len(set(titles)) == len(titles):
            buttons = [
                {"type": "reply", "reply": {"id": option.id, "title": title}}
                for option, title in zip(menu.options, titles, strict=True)
            ]
            return _interactive(to, menu, labels, "button", {"buttons": buttons})
    bounds = _page_bounds(len(menu.options))
    if not 0 <= page < len(bounds):
        _logger.warning("whatsapp render: page %s of a %s-page menu; showing the last", page, len(bounds))
        page = len(bounds) - 1
    start, end = bounds[page]
    rows = [_row(option) for option in menu.options[start:end]]
    if end < len(menu.options):
        rows.append({"id": MORE_ID, "title": shorten(_label(labels, "more"), ROW_TITLE_LIMIT)})
    if page > 0:
        rows.append({"id": BACK_ID, "title": shorten(_label(labels, "back"), ROW_TITLE_LIMIT)})
    action = {"button": shorten(_label(labels, "choose"), LIST_BUTTON_LIMIT), "sections": [{"rows": rows}]}
    return _interactive(to, menu, labels, "list", action)


def _page_bounds(count: int) -> list[tuple[int, int]]:
    """``[start, end)`` of the options on each page (see the module docstring)."""
    if count <= MAX_ROWS:
        return [(0, count)]
    bounds = [(0, MAX_ROWS - 1)]
    start = MAX_ROWS - 1
    while count - start > MAX_ROWS - 1:  # does not fit beside a Back row alone
        bounds.append((start, start + MAX_ROWS - 2))
        start += MAX_ROWS - 2
    bounds.append((start, count))
    return bounds


def _row(option: Option) -> JSONBody:
    row: JSONBody = {"id": option.id, "title": shorten(option.label, ROW_TITLE_LIMIT)}
    description = option.description
    if not description and row["title"] != option.label.strip():
        description = option.label  # the full label, so shortening loses nothing
    if description:
        row["description"] = shorten(description, ROW_DESCRIPTION_LIMIT)
    return row


def _interactive(to: str, menu: Menu, labels: NavLabels, kind: str, action: JSONBody) -> JSONBody:
    # The body is required; a menu without a title falls back to the "choose" word.
    body = menu.title.strip() or _label(labels, "choose")
    if len(body) > INTERACTIVE_BODY_LIMIT:
        _logger.warning("whatsapp render: menu title of %s characters shortened", len(body))
    interactive: JSONBody = {"type": kind, "body": {"text": shorten(body, INTERACTIVE_BODY_LIMIT)}}
    if menu.footer.strip():
        interactive["footer"] = {"text": shorten(menu.footer, FOOTER_LIMIT)}
    interactive["action"] = action
    return {**_envelope(to), "type": "interactive", "interactive": interactive}


def _text(to: str, body: str) -> JSONBody:
    return {**_envelope(to), "type": "text", "text": {"preview_url": False, "body": body}}


def _envelope(to: str) -> JSONBody:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}


def _label(labels: NavLabels, key: str) -> str:
    return labels.get(key) or _DEFAULT_LABELS[key]


def _parameter(value: str) -> str:
    # Template parameters may not hold new lines, tabs or more than 4 consecutive spaces (132018).
    return re.sub(r" {4,}", "   ", re.sub(r"[\t\r\n]+", " ", value)).strip()
