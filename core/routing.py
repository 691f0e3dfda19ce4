"""Which channel a reminder or announcement goes out on, in order of preference.

WhatsApp free-form inside the 24-hour customer-service window, else an approved WhatsApp
template, else SMS; SMS is always the last resort, so a WhatsApp refusal falls back to it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Step:
    channel: str
    """``whatsapp`` or ``sms``."""
    template: bool = False
    """WhatsApp only: outside the window, so an approved template."""


WHATSAPP_TEXT = Step("whatsapp")
WHATSAPP_TEMPLATE = Step("whatsapp", template=True)
SMS = Step("sms")


def route(
    *,
    preferred: str | None,
    whatsapp_available: bool,
    window_open: bool,
    whatsapp_tried: bool = False,
    sms_available: bool = True,
) -> list[Step]:
    """The channels to try, first to last.

    Args:
        preferred: the member's channel preference (``sms`` keeps them off WhatsApp).
        whatsapp_available: the organisation has a WhatsApp number.
        window_open: the member wrote to us on WhatsApp in the last 24 hours.
        whatsapp_tried: WhatsApp already failed for this message (an asynchronous failure).
        sms_available: an SMS sender is configured.
    """
    steps: list[Step] = []
    if whatsapp_available and not whatsapp_tried and preferred != "sms":
        steps.append(WHATSAPP_TEXT if window_open else WHATSAPP_TEMPLATE)
    if sms_available:
        steps.append(SMS)
    return steps
