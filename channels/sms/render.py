"""Render channel-neutral messages as one SMS body.

Menus are numbered ("1. Balance") with a "Reply with a number" line. A menu whose screen would
take more than ``max_segments_for_menus`` segments is paged: every page repeats the title, a page
with options left after it ends in "98. More", and pages after the first offer "0. Back".
Numbering is global across pages (page 2 starts at 6 if page 1 showed 5), so the engine can
resolve "7" to the seventh option whatever page the user is on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from channels.base import NavLabels
from channels.sms.segments import segments
from flows.messages import NAVIGATION_BACK, NAVIGATION_MORE, End, Menu, Message, Prompt, Text

_logger = logging.getLogger(__name__)

_DEFAULT_LABELS = {"more": "More", "back": "Back", "reply_with": "Reply with a number"}


def render_sms(
    messages: Sequence[Message], *, labels: NavLabels, page: int = 0, max_segments_for_menus: int = 1
) -> str:
    """Build the one SMS body that carries ``messages``.

    Args:
        messages: one reply of a flow (texts, then at most one screen).
        labels: navigation words in the user's language (``more``, ``back``, ``reply_with``).
        page: which page of a long menu to show; when 0, the menu's own ``page`` is used.
        max_segments_for_menus: how many segments a menu screen may take before it is paged.
    """
    parts: list[str] = []
    for message in messages:
        if isinstance(message, Menu):
            parts.append(_menu_page(message, labels, page or message.page, max_segments_for_menus))
        elif isinstance(message, Text | Prompt | End):
            parts.append(message.body.strip())
    return "\n".join(part for part in parts if part)


def page_count(menu: Menu, labels: NavLabels, *, max_segments: int = 1) -> int:
    """How many SMS screens ``render_sms`` needs to show every option of ``menu``."""
    return len(_page_bounds(menu, labels, max_segments))


def _menu_page(menu: Menu, labels: NavLabels, page: int, max_segments: int) -> str:
    bounds = _page_bounds(menu, labels, max_segments)
    if not 0 <= page < len(bounds):
        _logger.warning("sms render: page %s of a %s-page menu; showing the last", page, len(bounds))
        page = len(bounds) - 1
    start, end = bounds[page]
    return _screen(menu, labels, start, end, more=end < len(menu.options), back=page > 0)


def _page_bounds(menu: Menu, labels: NavLabels, max_segments: int) -> list[tuple[int, int]]:
    """``[start, end)`` of the options on each page, filling each page greedily."""
    count = len(menu.options)

    def fits(start: int, end: int, *, more: bool, back: bool) -> bool:
        return segments(_screen(menu, labels, start, end, more=more, back=back)) <= max_segments

    bounds: list[tuple[int, int]] = []
    start = 0
    while True:
        back = bool(bounds)
        if fits(start, count, more=False, back=back):
            bounds.append((start, count))
            return bounds
        end = start + 1  # at least one option per page, even an over-long one, so paging ends
        while end + 1 < count and fits(start, end + 1, more=True, back=back):
            end += 1
        bounds.append((start, end))
        if end >= count:
            return bounds
        start = end


def _screen(menu: Menu, labels: NavLabels, start: int, end: int, *, more: bool, back: bool) -> str:
    lines = [menu.title.strip()] if menu.title.strip() else []
    lines += [f"{number}. {option.label}" for number, option in enumerate(menu.options[start:end], start + 1)]
    if more:
        lines.append(f"{NAVIGATION_MORE}. {_label(labels, 'more')}")
    if back:
        lines.append(f"{NAVIGATION_BACK}. {_label(labels, 'back')}")
    if menu.footer.strip():
        lines.append(menu.footer.strip())
    if menu.options:
        lines.append(_label(labels, "reply_with"))
    return "\n".join(lines)


def _label(labels: NavLabels, key: str) -> str:
    return labels.get(key) or _DEFAULT_LABELS[key]
