"""What every SMS provider adapter shares: the sender interface and sender-number parsing."""

from __future__ import annotations

import dataclasses
import logging
from typing import Protocol

from core.errors import Invalid
from core.phones import normalise

_logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True, slots=True)
class SendResult:
    """A provider accepted one SMS.

    Attributes:
        message_id: the provider's id, which delivery reports refer to.
        status: our status vocabulary (``queued`` or ``sent``; see ``channels.base.STATUS_RANK``).
        cost: the provider's price text ("KES 0.8000"), when it tells us.
    """

    message_id: str
    status: str
    cost: str | None = None


class SmsSender(Protocol):
    """Sends one SMS; the same interface for Africa's Talking and Twilio."""

    def send(self, to: str, body: str, sender_id: str | None = None) -> SendResult:
        """Send ``body`` to ``to`` (E.164) from ``sender_id`` (short code, number or alphanumeric id).

        Raises:
            ProviderError: ``transient`` tells the job whether to retry; ``RecipientOptedOut``
                when the recipient has blocked us.
        """
        ...


def sender_phone(raw: str | None, provider: str) -> str | None:
    """The E.164 form of an inbound SMS's sender, or None (logged) for short codes, names and junk.

    Inbound messages from such senders are skipped: there is nobody to answer or identify.
    """
    text = raw or ""
    # phonenumbers reads letters as keypad digits ("0800FLOWERS"); a named sender is no phone.
    if not any(c.isalpha() for c in text):
        try:
            return normalise(text)
        except Invalid:
            pass
    _logger.warning("%s sms: sender is not a phone number (%d chars); skipped", provider, len(text))
    return None
