"""The baseline: the same form POST on bare Starlette, answering ``END ok``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


async def hop(request: Request) -> Response:
    form = await request.form()
    return PlainTextResponse(f"END ok {len(form)}")


async def webhook(request: Request) -> Response:
    await request.body()
    return PlainTextResponse("ok")


app = Starlette(
    routes=[
        Route("/channels/africastalking/ussd", hop, methods=["POST"]),
        Route("/channels/whatsapp", webhook, methods=["POST"]),
    ]
)
