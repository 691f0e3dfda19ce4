"""What every channel adapter offers the engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Protocol

from flows.messages import Menu

NavLabels = Mapping[str, str]
"""Navigation words in the user's language: keys ``more``, ``back``, ``home``, ``reply_with``, ``choose``
(the WhatsApp list button)."""


@dataclasses.dataclass(frozen=True, slots=True)
class DeliveryStatus:
    """A provider's report on a message we sent (delivered, read, failed...)."""

    provider: str
    provider_message_id: str
    status: str
    """One of: queued, sent, delivered, read, failed."""
    error_code: str | None = None
    error_message: str | None = None
    recipient: str | None = None


STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
"""Statuses only move forward; a late 'sent' never downgrades 'read'. 'failed' is final."""


class Paginator(Protocol):
    def page_count(self, menu: Menu, lang: str = "en", can_go_back: bool = False) -> int:
        """How many screens the channel needs to show every option of ``menu``."""
        ...
