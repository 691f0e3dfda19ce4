"""What the agent flows need from the application: M-Pesa requests and receipts, as a port.

The bot wires an implementation into ``services["agents"]`` that goes through the payments
lifecycle and the message senders; flows and core never see providers.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class PushOutcome(StrEnum):
    STARTED = "started"
    """The STK push is on its way to the phone."""
    BUSY = "busy"
    """That phone already has a payment waiting; no second prompt is sent."""
    FAILED = "failed"
    """The push could not be started (provider down, bad number...)."""


class AgentGateway(Protocol):
    def request_sale_payment(self, org_id: int, sale_id: int) -> PushOutcome:
        """Start an STK push to the sale's customer for the sale's total (purpose ``sale``)."""
        ...

    def request_collection_payment(self, org_id: int, collection_id: int, phone: str) -> PushOutcome:
        """Start an STK push to the agent's ``phone`` for the collection (purpose ``collection``)."""
        ...

    def sale_recorded(self, org_id: int, sale_id: int) -> None:
        """A sale was completed: send the customer's SMS receipt (in the background)."""
        ...
