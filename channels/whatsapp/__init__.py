"""WhatsApp Cloud API: webhook authentication and parsing, rendering, and the Graph API client."""

from channels.whatsapp.api import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, GraphClient
from channels.whatsapp.parse import WebhookBatch, WebhookError, parse_webhook, scan
from channels.whatsapp.render import BACK_ID, MORE_ID, page_count, render, template_message
from channels.whatsapp.signature import verify_handshake, verify_signature

__all__ = [
    "BACK_ID",
    "DEFAULT_BASE_URL",
    "DEFAULT_TIMEOUT",
    "MORE_ID",
    "GraphClient",
    "WebhookBatch",
    "WebhookError",
    "page_count",
    "parse_webhook",
    "render",
    "scan",
    "template_message",
    "verify_handshake",
    "verify_signature",
]
