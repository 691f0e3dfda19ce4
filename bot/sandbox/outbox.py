"""In-memory record of everything sent through the sandbox, with a live event feed."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.sandbox.numbers import digits

_logger = logging.getLogger(__name__)

_SUBSCRIBER_QUEUE_SIZE = 1000
END_OF_STREAM = "end"
"""The event that ends open event streams (never sent to clients)."""


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message (or STK prompt) that a provider would have put on a phone."""

    seq: int
    provider: str
    kind: str
    to: str
    body: str
    sender: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    ids: Mapping[str, str] = field(default_factory=dict)
    status: str = "accepted"
    error: str | None = None
    at: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the item as JSON-ready data."""
        return {
            "seq": self.seq,
            "provider": self.provider,
            "kind": self.kind,
            "to": self.to,
            "sender": self.sender,
            "body": self.body,
            "payload": dict(self.payload),
            "ids": dict(self.ids),
            "status": self.status,
            "error": self.error,
            "at": self.at,
        }

    def matches(self, *, to: str | None = None, provider: str | None = None, kind: str | None = None) -> bool:
        """Tell whether the item passes the given filters (phones compared by digits)."""
        return (
            (to is None or digits(self.to) == digits(to))
            and (provider is None or self.provider == provider)
            and (kind is None or self.kind == kind)
        )


@dataclass(frozen=True, slots=True)
class Event:
    """A change pushed to live subscribers: an outbox item, a prompt change or a clear."""

    name: str
    data: Mapping[str, Any]
    id: int | None = None

    @property
    def phone(self) -> str | None:
        """Return the phone the event concerns, if any."""
        value = self.data.get("to") or self.data.get("phone")
        return str(value) if value else None

    def to_sse(self) -> str:
        """Encode the event as one Server-Sent-Events message."""
        head = f"id: {self.id}\n" if self.id is not None else ""
        return f"{head}event: {self.name}\ndata: {json.dumps(self.data, separators=(',', ':'))}\n\n"


class Outbox:
    """Bounded list of outbox items plus a fan-out of events to subscribers."""

    def __init__(self, limit: int = 2000) -> None:
        self._items: deque[OutboxItem] = deque(maxlen=limit)
        self._seq = 0
        self._subscribers: set[asyncio.Queue[Event]] = set()

    def add(
        self,
        provider: str,
        kind: str,
        to: str,
        body: str,
        *,
        sender: str | None = None,
        payload: Mapping[str, Any] | None = None,
        ids: Mapping[str, str] | None = None,
        status: str = "accepted",
        error: str | None = None,
    ) -> OutboxItem:
        """Record an item and announce it to subscribers."""
        self._seq += 1
        item = OutboxItem(
            seq=self._seq,
            provider=provider,
            kind=kind,
            to=to,
            body=body,
            sender=sender,
            payload=dict(payload or {}),
            ids=dict(ids or {}),
            status=status,
            error=error,
            at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        )
        self._items.append(item)
        self.publish(Event("outbox", item.to_dict(), id=item.seq))
        return item

    def items(self, *, to: str | None = None, provider: str | None = None, kind: str | None = None) -> list[OutboxItem]:
        """Return recorded items, oldest first, filtered by phone, provider and kind."""
        return [item for item in self._items if item.matches(to=to, provider=provider, kind=kind)]

    def clear(self) -> None:
        """Forget every item (sequence numbers keep growing so live clients never see a repeat)."""
        self._items.clear()
        self.publish(Event("cleared", {}))

    def end_streams(self) -> None:
        """Tell every live event stream to finish: the server is stopping and must not wait for them."""
        self.publish(Event(END_OF_STREAM, {}))

    def publish(self, event: Event) -> None:
        """Hand an event to every subscriber without waiting on any of them."""
        for queue in self._subscribers:
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A stalled browser tab must not block the providers; it just misses events.
                _logger.warning("sandbox event subscriber is full; dropping %s", event.name)

    @asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Queue[Event]]:
        """Receive every event published while the block is open."""
        queue: asyncio.Queue[Event] = asyncio.Queue(_SUBSCRIBER_QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)

    async def wait_for(
        self,
        *,
        to: str | None = None,
        provider: str | None = None,
        kind: str | None = None,
        after_seq: int = 0,
        timeout: float = 5.0,
    ) -> OutboxItem:
        """Return the first matching item newer than after_seq, waiting for it if needed.

        Raises:
            TimeoutError: nothing matching arrived within the timeout.
        """
        async with asyncio.timeout(timeout), self.subscription() as queue:
            while True:
                for item in self.items(to=to, provider=provider, kind=kind):
                    if item.seq > after_seq:
                        return item
                await queue.get()

    @property
    def last_seq(self) -> int:
        """Return the sequence number of the newest item ever recorded."""
        return self._seq
