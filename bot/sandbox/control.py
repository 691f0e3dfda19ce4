"""Control API of the sandbox: outbox, live events (SSE), phone prompts and the test numbers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from bot.sandbox.numbers import describe, digits
from bot.sandbox.outbox import END_OF_STREAM, Outbox
from bot.sandbox.stk import Payer, PromptError

KEEPALIVE_SECONDS = 15.0
"""Idle SSE streams get a comment this often so proxies and browsers keep them open."""


class Control:
    """The /sandbox-control endpoints, bound to one outbox and fake payer."""

    def __init__(self, outbox: Outbox, payer: Payer) -> None:
        self.outbox = outbox
        self.payer = payer

    def routes(self) -> list[BaseRoute]:
        """Return the control routes (relative, so the app can be mounted anywhere)."""
        return [
            Route("/sandbox-control/outbox", self.list_outbox, methods=["GET"]),
            Route("/sandbox-control/outbox", self.clear_outbox, methods=["DELETE"]),
            Route("/sandbox-control/events", self.events, methods=["GET"]),
            Route("/sandbox-control/prompts", self.list_prompts, methods=["GET"]),
            Route("/sandbox-control/prompts/{checkout_request_id}", self.answer_prompt, methods=["POST"]),
            Route("/sandbox-control/numbers", self.numbers, methods=["GET"]),
        ]

    async def list_outbox(self, request: Request) -> Response:
        """List recorded items, oldest first, filtered by to, provider and kind."""
        query = request.query_params
        items = self.outbox.items(to=query.get("to"), provider=query.get("provider"), kind=query.get("kind"))
        return JSONResponse({"items": [item.to_dict() for item in items]})

    async def clear_outbox(self, request: Request) -> Response:
        """Forget every recorded item."""
        self.outbox.clear()
        return Response(status_code=204)

    async def events(self, request: Request) -> Response:
        """Stream new outbox items and prompt changes as Server-Sent Events (optionally for one phone)."""
        phone = request.query_params.get("to")
        wanted = digits(phone) if phone else None
        return StreamingResponse(
            self._stream(wanted),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    async def _stream(self, wanted: str | None) -> AsyncIterator[str]:
        async with self.outbox.subscription() as queue:
            # Sent once subscribed, so a client knows that nothing published from now on is missed.
            yield ": connected\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event.name == END_OF_STREAM:
                    return  # the server is stopping; a browser's EventSource reconnects on its own
                if wanted is None or event.phone is None or digits(event.phone) == wanted:
                    yield event.to_sse()

    async def list_prompts(self, request: Request) -> Response:
        """List STK prompts waiting for an answer on a phone (all phones without ?phone=)."""
        phone = request.query_params.get("phone")
        prompts = self.payer.pending_prompts(digits(phone) if phone else None)
        return JSONResponse({"prompts": [push.prompt_view() for push in prompts]})

    async def answer_prompt(self, request: Request) -> Response:
        """Answer a phone prompt: {"action": "approve" | "cancel" | "wrong_pin" | "timeout"}."""
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            body = None
        action = body.get("action") if isinstance(body, dict) else None
        try:
            push = self.payer.answer(request.path_params["checkout_request_id"], str(action))
        except PromptError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status_code)
        return JSONResponse(push.prompt_view())

    async def numbers(self, request: Request) -> Response:
        """Return the test numbers and what each one does."""
        return JSONResponse(describe())
