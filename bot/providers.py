"""The provider clients the chat channels send through, built once from the settings.

One shared ``httpx.Client`` with explicit timeouts carries WhatsApp and Africa's Talking; the
Twilio SDK brings its own HTTP client (given the same timeout, and no region / edge from the
environment, see ``channels.sms.twilio``). Clients are created on first use, so a web process
that never sends opens no connection pool and never imports the Twilio SDK.
"""

from __future__ import annotations

import threading
from typing import Any

import httpx

from bot.settings import Settings
from channels.sms.base import SmsSender
from channels.whatsapp import GraphClient

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
TWILIO_STATUS_PATH = "/channels/twilio/status"


class ProviderClients:
    """WhatsApp Cloud API, Africa's Talking SMS and Twilio SMS senders (``services["provider_clients"]``)."""

    def __init__(self, settings: Settings, *, http: httpx.Client | None = None, twilio_http: Any = None) -> None:
        """
        Args:
            settings: base URLs, versions and credentials.
            http: the client for WhatsApp and Africa's Talking (tests pass a mock transport).
            twilio_http: a ``twilio.http.HttpClient`` for Twilio (tests pass a fake).
        """
        self.settings = settings
        self._http = http
        self._owns_http = http is None
        self._twilio_http = twilio_http
        self._lock = threading.Lock()
        self._whatsapp: GraphClient | None = None
        self._sms: dict[str, SmsSender] = {}

    @property
    def http(self) -> httpx.Client:
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=TIMEOUT, limits=httpx.Limits(max_connections=20))
            return self._http

    @property
    def whatsapp(self) -> GraphClient:
        if self._whatsapp is None:
            s = self.settings
            self._whatsapp = GraphClient(
                self.http, s.whatsapp_graph_url, s.whatsapp_api_version, s.whatsapp_token.get_secret_value()
            )
        return self._whatsapp

    def sms(self, provider: str | None = None) -> SmsSender:
        """The sender of ``provider`` (``africastalking`` or ``twilio``); the configured one by default."""
        name = provider or self.settings.sms_provider
        sender = self._sms.get(name)
        if sender is None:
            sender = self._build_sms(name)
            self._sms[name] = sender
        return sender

    def sms_sender_id(self, provider: str | None = None) -> str | None:
        """Who outbound SMS come from when no inbound message says otherwise."""
        if (provider or self.settings.sms_provider) == "twilio":
            return self.settings.twilio_from
        return self.settings.africastalking_sender_id

    def _build_sms(self, name: str) -> SmsSender:
        s = self.settings
        if name == "twilio":
            from channels.sms.twilio import TwilioSender

            return TwilioSender(
                s.twilio_account_sid,
                s.twilio_auth_token.get_secret_value(),
                s.twilio_api_url,
                timeout=TIMEOUT.read or 10.0,
                status_callback=s.public_url + TWILIO_STATUS_PATH,
                http_client=self._twilio_http,
            )
        if name == "africastalking":
            from channels.sms.africastalking import AfricasTalkingSender

            return AfricasTalkingSender(
                self.http,
                s.africastalking_username,
                s.africastalking_api_key.get_secret_value(),
                base_url=s.africastalking_sms_url,
                timeout=TIMEOUT,
            )
        raise ValueError(f"unknown SMS provider {name!r}")

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()
            self._http = None
