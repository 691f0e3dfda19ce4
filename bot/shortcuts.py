"""Shortcuts into a flow from outside a conversation: reply "1" / "Pay now" / a USSD dial after a reminder.

The engine asks :meth:`PayShortcuts.match` when a conversation starts (and always for a tapped
``pay:<id>`` button) and opens the flow it names with the data it gives.
"""

from __future__ import annotations

import logging
from typing import Any

from core import pay_offers
from core.clock import Clock
from core.tables import Member, Organisation, TargetKind
from core.uow import UowFactory
from flows.messages import ChannelName, Inbound

_logger = logging.getLogger(__name__)

PAY_FLOW = "pay"
COLLECTIONS_FLOW = "collections"
SMS_REPLY = "1"

PURPOSES = {
    TargetKind.LOAN_INSTALLMENT: "loan_repayment",
    TargetKind.CONTRIBUTION: "contribution",
    TargetKind.COLLECTION: "collection",
}
"""Due-item kinds as the payments' purposes name them."""


class PayShortcuts:
    def __init__(self, uow_factory: UowFactory, clock: Clock) -> None:
        self.uow_factory = uow_factory
        self.clock = clock

    def forces_start(self, inbound: Inbound) -> bool:
        """A tapped "Pay now" button starts afresh, whatever conversation was open."""
        return pay_offers.parse_payload(inbound.choice_id) is not None

    def match(self, org: Organisation, member: Member, inbound: Inbound) -> tuple[str, dict[str, Any]] | None:
        """``(flow, data)`` to open instead of the main menu, or None."""
        if member.id is None:
            return None
        now = self.clock.now()
        tapped = pay_offers.parse_payload(inbound.choice_id)
        with self.uow_factory() as uow:
            if tapped is not None:
                offer = pay_offers.offer_by_id(uow, org, member.id, tapped, now)
            elif inbound.channel == ChannelName.SMS and inbound.text.strip() == SMS_REPLY:
                offer = pay_offers.offer_today(uow, org, member.id, now)
            elif inbound.channel == ChannelName.USSD and not (inbound.full_text or inbound.text):
                offer = pay_offers.offer_today(uow, org, member.id, now)
            else:
                return None
            if offer is None:
                return None
            pay_offers.use(uow, offer.reminder_id, now)
            uow.commit()
        # Agents pay collections in their own flow, which lists what they owe.
        flow = COLLECTIONS_FLOW if offer.target_kind == TargetKind.COLLECTION else PAY_FLOW
        return flow, pay_data(offer)


def pay_data(offer: pay_offers.PayOffer) -> dict[str, Any]:
    """What the pay flow is opened with: the due item and the amount filled in."""
    data: dict[str, Any] = {
        "purpose": PURPOSES[offer.target_kind],
        "amount": offer.amount,
        "reference": offer.reference,
        "reminder_id": offer.reminder_id,
    }
    if offer.target_kind == TargetKind.LOAN_INSTALLMENT:
        data["installment_id"] = int(offer.target_id)
    elif offer.target_kind == TargetKind.CONTRIBUTION:
        data["cycle"] = offer.target_id.partition(":")[2]
    else:
        data["collection_id"] = int(offer.target_id)
    return data
