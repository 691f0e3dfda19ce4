"""Local fakes of Daraja, Africa's Talking, Twilio and the WhatsApp Cloud API, at their real paths."""

from __future__ import annotations

from bot.sandbox.app import create_sandbox_app, sandbox_of
from bot.sandbox.config import SandboxConfig
from bot.sandbox.outbox import Outbox, OutboxItem
from bot.sandbox.runtime import Sandbox

__all__ = ["Outbox", "OutboxItem", "Sandbox", "SandboxConfig", "create_sandbox_app", "sandbox_of"]
