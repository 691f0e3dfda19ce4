"""Channel-neutral conversation messages.

Flows speak only these frozen values; each channel renders them within its own limits
(USSD screens, WhatsApp buttons and lists, numbered SMS). Inbound messages arrive as
:class:`Inbound`, whatever the provider.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum


class ChannelName(StrEnum):
    USSD = "ussd"
    WHATSAPP = "whatsapp"
    SMS = "sms"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    """One message (or USSD hop) from a phone, as every channel parses it.

    Attributes:
        channel: which channel family it came in on.
        provider: the provider that delivered it ("africastalking", "twilio", "whatsapp").
        binding: the address it was sent to (USSD service code, SMS short code or number,
            WhatsApp phone-number-id); the engine resolves the organisation from it.
        phone_e164: the sender, normalised to E.164 ("+254700000001").
        text: the newest free text typed by the user ("" for none).
        choice_id: the id of a button or list row the user tapped, if any.
        session_key: the provider's session id (USSD) or the phone for chat channels.
        provider_message_id: the provider's id, used to de-duplicate redeliveries.
        received_at: when the provider received it (UTC).
        full_text: USSD only: the cumulative ``text`` as Africa's Talking sends it (``1*2*3``).
        org_id: set by the engine once the binding is resolved.
    """

    channel: ChannelName
    provider: str
    binding: str
    phone_e164: str
    text: str = ""
    choice_id: str | None = None
    session_key: str = ""
    provider_message_id: str = ""
    received_at: datetime | None = None
    full_text: str | None = None
    org_id: int | None = None
    unsupported: str | None = None
    """Set for media, locations and other kinds a flow cannot read (the kind's name)."""
    reply_token: str | None = None
    """A provider token a reply must carry (Africa's Talking ``linkId`` on premium short codes)."""
    profile_name: str | None = None
    """The name the sender shows on WhatsApp, when the provider tells it."""


@dataclasses.dataclass(frozen=True, slots=True)
class Option:
    """One choice of a :class:`Menu`: ``id`` is what the flow receives, ``label`` what the user sees."""

    id: str
    label: str
    description: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Text:
    """Information with nothing to answer; the conversation stays where it is."""

    body: str


@dataclasses.dataclass(frozen=True, slots=True)
class Menu:
    """A choice among options. Channels number, page, or turn them into buttons and lists."""

    title: str
    options: tuple[Option, ...]
    footer: str = ""
    page: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class Prompt:
    """A question that expects free text; ``expects`` names the event the answer is sent as."""

    body: str
    expects: str
    secret: bool = False
    """True for PINs: the answer is never logged, stored or echoed."""


@dataclasses.dataclass(frozen=True, slots=True)
class End:
    """The last message of a conversation; USSD closes the session with it."""

    body: str


Message = Text | Menu | Prompt | End
Reply = Sequence[Message]
"""What one inbound message produces: zero or more texts, then at most one screen."""

NAVIGATION_BACK = "0"
NAVIGATION_HOME = "00"
NAVIGATION_MORE = "98"
