"""Run the provider sandbox alone: python -m bot.sandbox --port 8081."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from bot.sandbox.app import create_sandbox_app
from bot.sandbox.config import SandboxConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m bot.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--callback-delay", type=float, default=3.0, help="seconds before callbacks")
    parser.add_argument("--manual", action="store_true", help="STK pushes wait for /sandbox-control/prompts")
    parser.add_argument("--whatsapp-webhook-url", help="where WhatsApp status webhooks are POSTed")
    parser.add_argument("--at-delivery-report-url", help="where Africa's Talking delivery reports are POSTed")
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """Turn the command line into a sandbox config (credentials keep their sandbox defaults)."""
    return SandboxConfig(
        callback_delay_seconds=args.callback_delay,
        manual_approval=args.manual,
        whatsapp_status_webhook_url=args.whatsapp_webhook_url,
        at_delivery_report_url=args.at_delivery_report_url,
    )


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox with uvicorn."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    uvicorn.run(create_sandbox_app(config_from_args(args)), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
