"""Africa's Talking USSD: form hops in, ``CON``/``END`` text/plain screens out.

A screen is at most 182 characters including the 4-character prefix. Long menus are paged
(``98 More``, ``0 Back``) with options numbered across pages, so "7" always means the 7th option.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from channels.base import NavLabels
from core import phones
from core.clock import utcnow
from core.errors import Invalid
from flows.messages import ChannelName, End, Inbound, Menu, Message, Prompt, Text

_logger = logging.getLogger(__name__)

MAX_CHARS = 182
PREFIX = 4  # "CON " / "END "
BUDGET = MAX_CHARS - PREFIX
MAX_INPUT = 182
PROVIDER = "africastalking"


def parse_hop(form: Mapping[str, str]) -> Inbound:
    """Read one hop. ``text`` is cumulative ("1*2*3"); the newest input is its last part.

    The engine refines the newest input with :func:`newest_input` when it knows the previous
    cumulative text, which keeps inputs that themselves contain ``*`` intact.

    Raises:
        Invalid: when the form lacks a session id or a valid phone number.
    """
    session_id = (form.get("sessionId") or "").strip()
    if not session_id:
        raise Invalid("sessionId is required", field="sessionId")
    phone = phones.from_provider(form.get("phoneNumber") or "")
    full = (form.get("text") or "")[:2000]
    return Inbound(
        channel=ChannelName.USSD,
        provider=PROVIDER,
        binding=(form.get("serviceCode") or "").strip(),
        phone_e164=phone,
        text=newest_input("", full),
        session_key=session_id,
        received_at=utcnow(),
        full_text=full,
    )


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """Africa's Talking's end-of-session notification: the session is over, however it ended."""

    session_key: str
    binding: str
    phone_e164: str
    status: str
    """``Success`` (the app answered ``END``), ``Incomplete`` (dropped or timed out) or ``Failed``."""

    @property
    def completed(self) -> bool:
        return self.status == "Success"


def parse_session_end(form: Mapping[str, str]) -> SessionEnd:
    """Read the notification sent to the events URL.

    Raises:
        Invalid: when the form lacks a session id, a valid phone number or the status.
    """
    session_id = (form.get("sessionId") or "").strip()
    if not session_id:
        raise Invalid("sessionId is required", field="sessionId")
    status = (form.get("status") or "").strip()
    if not status:
        raise Invalid("status is required", field="status")
    return SessionEnd(
        session_key=session_id,
        binding=(form.get("serviceCode") or "").strip(),
        phone_e164=phones.from_provider(form.get("phoneNumber") or ""),
        status=status,
    )


def newest_input(previous: str, full: str) -> str:
    """The part of cumulative ``full`` that is new since ``previous`` (both as AT sends them)."""
    if previous and full.startswith(previous + "*"):
        newest = full[len(previous) + 1 :]
    elif not full:
        newest = ""
    else:
        newest = full.rsplit("*", 1)[-1]
    return newest.strip()[:MAX_INPUT]


@dataclass(frozen=True, slots=True)
class Screen:
    body: str
    """The whole response body, ``CON ...`` or ``END ...``."""
    ends: bool


def _footer(has_next: bool, has_prev: bool, can_go_back: bool, labels: NavLabels) -> str:
    parts = []
    if has_next:
        parts.append(f"98 {labels['more']}")
    if has_prev or can_go_back:
        parts.append(f"0 {labels['back']}")
    if can_go_back:
        parts.append(f"00 {labels['home']}")
    return " ".join(parts)


def _option_line(number: int, label: str) -> str:
    return f"{number}. {label}"


def _pages(menu: Menu, head: str, labels: NavLabels, can_go_back: bool) -> list[tuple[int, int]]:
    """Split options into pages ``(start, stop)`` that fit the budget with their footer."""
    options = menu.options
    pages: list[tuple[int, int]] = []
    start = 0
    while True:
        stop = start
        while stop < len(options):
            candidate = _compose(head, menu, start, stop + 1, labels, can_go_back, has_next=stop + 1 < len(options))
            if len(candidate) > BUDGET and stop > start:
                break
            stop += 1
            if len(candidate) > BUDGET:
                break
        pages.append((start, stop))
        if stop >= len(options):
            return pages
        start = stop


def _compose(
    head: str, menu: Menu, start: int, stop: int, labels: NavLabels, can_go_back: bool, *, has_next: bool
) -> str:
    lines = [head] if head else []
    lines += [_option_line(i + 1, menu.options[i].label) for i in range(start, stop)]
    if menu.footer:
        lines.append(menu.footer)
    footer = _footer(has_next, start > 0, can_go_back, labels)
    if footer:
        lines.append(footer)
    return "\n".join(lines)


def _fit(text: str) -> str:
    if len(text) <= BUDGET:
        return text
    _logger.warning("USSD screen of %d characters cut to %d", len(text), BUDGET)
    return text[: BUDGET - 1] + "…"


class UssdRenderer:
    """Renders neutral messages into one USSD screen, in the conversation's language."""

    def __init__(self, labels_for: Callable[[str], NavLabels]) -> None:
        self.labels_for = labels_for

    def page_count(self, menu: Menu, lang: str = "en", can_go_back: bool = False) -> int:
        return len(_pages(menu, menu.title, self.labels_for(lang), can_go_back))

    def render(
        self, messages: Sequence[Message], *, page: int = 0, lang: str = "en", can_go_back: bool = False
    ) -> Screen:
        labels = self.labels_for(lang)
        notes = [m.body for m in messages if isinstance(m, Text)]
        screen = next((m for m in reversed(messages) if not isinstance(m, Text)), None)
        head = "\n".join(notes)
        if isinstance(screen, End) or screen is None:
            body = "\n".join(filter(None, [head, screen.body if screen else ""]))
            return Screen("END " + _fit(body), True)
        if isinstance(screen, Prompt):
            return Screen("CON " + _fit("\n".join(filter(None, [head, screen.body]))), False)
        title = "\n".join(filter(None, [head, screen.title]))
        pages = _pages(screen, title, labels, can_go_back)
        index = min(max(page, 0), len(pages) - 1)
        start, stop = pages[index]
        text = _compose(title, screen, start, stop, labels, can_go_back, has_next=index + 1 < len(pages))
        return Screen("CON " + _fit(text), False)
