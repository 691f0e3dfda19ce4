"""Settings of the provider sandbox: expected credentials, delays and where to deliver callbacks."""

from __future__ import annotations

from dataclasses import dataclass, field

DARAJA_SANDBOX_PASSKEY = "bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919"
"""The passkey Safaricom publishes for its public test paybill 174379."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    """What the fake providers expect from callers and how they behave in time."""

    callback_delay_seconds: float = 3.0
    """Wait before a callback, delivery report or status webhook is sent (tests use 0)."""

    daraja_consumer_key: str = "sandbox-consumer-key"
    daraja_consumer_secret: str = field(default="sandbox-consumer-secret", repr=False)
    daraja_shortcode: str = "174379"
    daraja_passkey: str = field(default=DARAJA_SANDBOX_PASSKEY, repr=False)
    daraja_extra_shortcodes: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    """More (shortcode, passkey) pairs, one per demo organisation with its own paybill or till."""
    daraja_token_ttl_seconds: int = 3599
    lost_callback_settle_seconds: float = 30.0
    """For the lost-callback test number: how long the status query keeps saying "being processed"."""

    manual_approval: bool = False
    """Every STK push (except test numbers) waits for a decision at /sandbox-control/prompts."""
    manual_phones: frozenset[str] = frozenset()
    """Payer numbers (2547XXXXXXXX) whose pushes wait for a manual decision even if the flag is off."""
    prompt_timeout_seconds: float | None = 60.0
    """A manual prompt nobody answers ends as a timeout (1037), like a phone left in a pocket."""

    twilio_account_sid: str = "AC" + "0" * 32
    twilio_auth_token: str = field(default="sandbox-twilio-auth-token", repr=False)

    whatsapp_token: str = field(default="sandbox-whatsapp-token", repr=False)
    whatsapp_app_secret: str = field(default="sandbox-whatsapp-app-secret", repr=False)
    whatsapp_status_webhook_url: str | None = None
    whatsapp_phone_number_id: str | None = None
    """When set, sends to any other phone number id are refused as Graph does for unknown objects."""
    whatsapp_display_phone_number: str = "254711000000"
    whatsapp_business_account_id: str = "100000000000001"

    at_username: str = "sandbox"
    at_api_key: str = field(default="sandbox-at-api-key", repr=False)
    at_delivery_report_url: str | None = None

    outbox_limit: int = 2000
    delivery_timeout_seconds: float = 10.0
    """Timeout of every outgoing callback POST; a slow receiver must not pile up tasks."""

    def passkey_for(self, shortcode: str) -> str | None:
        """Return the passkey of a known shortcode, or None if the sandbox has no such merchant."""
        if shortcode == self.daraja_shortcode:
            return self.daraja_passkey
        return dict(self.daraja_extra_shortcodes).get(shortcode)

    def is_manual(self, phone: str) -> bool:
        """Tell whether a push to this payer waits for someone to answer the phone prompt."""
        return self.manual_approval or phone in self.manual_phones
