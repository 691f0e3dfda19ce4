"""Navigation words for channel renderers, in the conversation's language."""

from __future__ import annotations

from functools import cache

from flows.i18n import t


@cache
def nav_labels(lang: str) -> dict[str, str]:
    return {key: t(lang, f"common.{key}") for key in ("more", "back", "home", "reply_with", "choose")}
