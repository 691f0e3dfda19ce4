"""The conversation a flow runs in: what the engine loads before a hop and saves after it."""

from __future__ import annotations

import dataclasses
from typing import Any

SECRET_KEYS = frozenset({"pin", "new_pin", "pin_first"})
"""Scratch keys that must never be persisted; flows keep PINs only for the length of one hop."""
_TRANSIENT = frozenset({"goto", "notices", "secret_input"})
"""Fields set during one hop and never saved."""


@dataclasses.dataclass(slots=True, kw_only=True)
class Conversation:
    """One phone's conversation with one organisation on one channel.

    ``state`` is the python-statemachine state field of the current ``flow``; ``data`` is the
    flow's scratch (JSON-safe values only).
    """

    key: str
    org_id: int
    channel: str
    phone: str
    member_id: int | None = None
    role: str | None = None
    lang: str = "en"
    flow: str | None = None
    state: str | None = None
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    history: list[list[str]] = dataclasses.field(default_factory=list)
    page: int = 0
    authenticated_until: float = 0.0
    provider_session: str | None = None
    last_full_text: str = ""
    ended: bool = False
    suspended: dict[str, Any] | None = None
    """A dropped USSD session's flow, state and data, offered back on redial."""
    updated_at: float = 0.0
    # Transient, never saved: set by flows during a hop, read by the engine.
    goto: str | None = dataclasses.field(default=None, compare=False)
    notices: list[str] = dataclasses.field(default_factory=list, compare=False)
    secret_input: bool = dataclasses.field(default=False, compare=False)
    """This hop's input answered a secret prompt (a PIN); channels must not keep it."""

    def to_json(self) -> dict[str, Any]:
        out = {name: getattr(self, name) for name in _SAVED}
        out["data"] = {k: v for k, v in self.data.items() if k not in SECRET_KEYS}
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Conversation:
        return cls(**{k: v for k, v in raw.items() if k in _SAVED_NAMES})


_SAVED = tuple(f.name for f in dataclasses.fields(Conversation) if f.name not in _TRANSIENT)
"""The fields saved between hops, in declaration order."""
_SAVED_NAMES = frozenset(_SAVED)
