"""Configuration: one validated object read from ``JUMBE_*`` environment variables.

A bad value stops start-up with one line naming the variable (see :func:`load`).
Every setting is documented in docs/configuration.md.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ProviderMode(StrEnum):
    SANDBOX = "sandbox"
    LIVE = "live"


_CREDENTIALS = (
    "whatsapp_token",
    "whatsapp_app_secret",
    "africastalking_api_key",
    "twilio_auth_token",
    "mpesa_consumer_key",
    "mpesa_consumer_secret",
)
"""Secrets that must be real in live mode and must be ``sandbox...`` placeholders in sandbox mode."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JUMBE_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///jumbe.db"
    """SQLAlchemy URL; SQLite file by default, ``postgresql+psycopg://...`` in production."""
    redis_url: str | None = None
    """Unset: embedded mode (sessions in memory, jobs in-process). Set: Redis sessions and RQ."""
    public_url: str = "http://127.0.0.1:8000"
    """How providers reach us: callback URLs and Twilio signature checks are built from it."""
    provider_mode: ProviderMode = ProviderMode.SANDBOX
    """``sandbox``: providers are the built-in fakes under /sandbox. ``live``: the real ones."""
    log_level: str = "INFO"
    """Python logging level: DEBUG, INFO, WARNING or ERROR."""
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=50 * 1024 * 1024)
    """Requests with larger bodies are refused with 413 before they are read."""
    queue_name: str = "jumbe"
    """The RQ queue that web processes fill and ``jumbe worker`` drains."""
    hop_threads: int = Field(default=0, ge=0, le=64)
    """0: USSD hops run on the event loop (fastest while the database answers in about a
    millisecond: SQLite, PostgreSQL nearby). N: in N threads, so slow database round trips overlap."""

    # WhatsApp Cloud API
    whatsapp_graph_url: str = ""
    """Defaults to https://graph.facebook.com live, or the sandbox in sandbox mode."""
    whatsapp_api_version: str = "v21.0"
    """Graph API version in the ``/{version}/{phone_number_id}/messages`` path."""
    whatsapp_token: SecretStr = SecretStr("sandbox-token")
    """Cloud API access token (a system user token in production)."""
    whatsapp_app_secret: SecretStr = SecretStr("sandbox-app-secret")
    """Meta app secret: ``X-Hub-Signature-256`` is checked with it over the raw body."""
    whatsapp_verify_token: SecretStr = SecretStr("sandbox-verify-token")
    """The token you type into Meta's webhook settings; the GET handshake must echo it."""
    whatsapp_template_name: str = "jumbe_notice"
    """Approved template used outside the 24-hour window; one body parameter, the text."""
    whatsapp_template_language: str = "en"
    """Language code of that approved template."""

    # Africa's Talking
    africastalking_username: str = "sandbox"
    """Africa's Talking application username (``sandbox`` for their sandbox and ours)."""
    africastalking_api_key: SecretStr = SecretStr("sandbox-at-key")
    """Africa's Talking API key, sent as the ``apiKey`` header."""
    africastalking_sms_url: str = ""
    """Base URL of the SMS API; defaults to https://api.africastalking.com live, the sandbox otherwise."""
    africastalking_sender_id: str | None = None
    """Alphanumeric sender id or short code to send from; unset = Africa's Talking's default."""

    # Twilio
    twilio_account_sid: str = "ACsandbox00000000000000000000000000"
    """Twilio account SID (``AC...``)."""
    twilio_auth_token: SecretStr = SecretStr("sandbox-twilio-token")
    """Twilio auth token: signs ``X-Twilio-Signature`` and authenticates REST calls."""
    twilio_from: str = "+15005550006"
    """The Twilio number (or Messaging Service SID ``MG...``) replies are sent from."""
    twilio_api_url: str = ""
    """Base URL of the Twilio REST API; defaults to https://api.twilio.com live, the sandbox otherwise."""
    sms_provider: str = "africastalking"
    """Which provider sends outbound SMS: ``africastalking`` or ``twilio``."""

    # M-Pesa Daraja
    mpesa_base_url: str = ""
    """Daraja base URL; defaults to https://api.safaricom.co.ke live, the sandbox otherwise."""
    mpesa_consumer_key: SecretStr = SecretStr("sandbox-consumer-key")
    """Daraja app consumer key (OAuth client credentials)."""
    mpesa_consumer_secret: SecretStr = SecretStr("sandbox-consumer-secret")
    """Daraja app consumer secret."""
    mpesa_shortcode: str = "174379"
    """BusinessShortCode: the paybill (or the store number for till payments)."""
    mpesa_passkey: SecretStr = SecretStr("bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919")
    """Lipa na M-Pesa Online passkey (the default is Safaricom's public sandbox passkey)."""
    mpesa_transaction_type: str = "CustomerPayBillOnline"
    """``CustomerPayBillOnline`` (paybill) or ``CustomerBuyGoodsOnline`` (till)."""
    mpesa_callback_allowlist: str = ""
    """Comma-separated source IPs allowed to POST STK callbacks; empty = any (sandbox)."""

    admin_rate_per_second: float = Field(default=10.0, gt=0, le=10_000)
    """Admin API: sustained requests per second allowed per API key (token bucket refill)."""
    admin_rate_burst: int = Field(default=60, ge=1, le=100_000)
    """Admin API: requests a key may send at once before the rate applies (429 with Retry-After)."""

    sandbox_callback_delay: float = Field(default=3.0, ge=0, le=120)
    """Seconds the sandbox waits before POSTing an STK callback or a status webhook."""
    sandbox_manual_approval: bool = False
    """Every sandbox STK push waits for an answer on the simulator's phone prompt (``jumbe demo``)."""

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value[len("postgresql://") :]
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis:// URL (or unset for embedded mode)")
        return value

    @field_validator("public_url")
    @classmethod
    def _public(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("sms_provider")
    @classmethod
    def _sms(cls, value: str) -> str:
        if value not in ("africastalking", "twilio"):
            raise ValueError("must be africastalking or twilio")
        return value

    @model_validator(mode="after")
    def _provider_urls(self) -> Self:
        sandbox = f"{self.public_url}/sandbox"
        defaults = {
            "whatsapp_graph_url": ("https://graph.facebook.com", sandbox),
            "africastalking_sms_url": ("https://api.africastalking.com", sandbox),
            "twilio_api_url": ("https://api.twilio.com", sandbox),
            "mpesa_base_url": ("https://api.safaricom.co.ke", sandbox),
        }
        live = self.provider_mode == ProviderMode.LIVE
        for name, (live_url, sandbox_url) in defaults.items():
            if not getattr(self, name):
                setattr(self, name, live_url if live else sandbox_url)
            url = getattr(self, name)
            if live and "/sandbox" in url:
                raise ValueError(f"JUMBE_{name.upper()}: live mode refuses a sandbox URL ({url})")
            if not live and not url.startswith(sandbox) and "127.0.0.1" not in url and "localhost" not in url:
                raise ValueError(f"JUMBE_{name.upper()}: sandbox mode refuses a real provider URL ({url})")
        for secret in _CREDENTIALS:
            is_sandbox_value = getattr(self, secret).get_secret_value().startswith("sandbox")
            if live and is_sandbox_value:
                raise ValueError(f"JUMBE_{secret.upper()}: live mode needs a real credential")
            if not live and not is_sandbox_value:
                raise ValueError(
                    f"JUMBE_{secret.upper()}: sandbox mode refuses live credentials (use a sandbox-... value)"
                )
        return self

    @property
    def embedded(self) -> bool:
        return self.redis_url is None

    @property
    def sandbox(self) -> bool:
        return self.provider_mode == ProviderMode.SANDBOX


class SettingsError(SystemExit):
    """Start-up stops with one line naming the bad variable."""


def load(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first.get("loc") or ()
        name = f"JUMBE_{str(loc[0]).upper()}" if loc else "settings"
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        raise SettingsError(f"configuration error: {name}: {message}") from None
