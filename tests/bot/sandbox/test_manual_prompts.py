"""Manual mode: STK pushes wait as phone prompts until the control API answers them."""

from __future__ import annotations

import pytest

from bot.sandbox import SandboxConfig
from tests.bot.sandbox.helpers import CALLBACK_URL, PAYER, Env, push, stk_body, stk_callback

pytestmark = pytest.mark.anyio

MANUAL = SandboxConfig(callback_delay_seconds=0, manual_approval=True, prompt_timeout_seconds=5)


async def prompts(env: Env, phone: str | None = None) -> list[dict[str, object]]:
    response = await env.api.get("/sandbox-control/prompts", params={"phone": phone} if phone else None)
    assert response.status_code == 200
    result = response.json()["prompts"]
    assert isinstance(result, list)
    return result


@pytest.mark.parametrize("sandbox_config", [MANUAL])
@pytest.mark.parametrize(
    ("action", "code", "status"),
    [
        ("approve", 0, "approved"),
        ("cancel", 1032, "cancelled"),
        ("wrong_pin", 2001, "wrong_pin"),
        ("timeout", 1037, "timed_out"),
    ],
)
async def test_prompt_waits_for_an_answer(env: Env, action: str, code: int, status: str) -> None:
    checkout_id = (await push(env)).json()["CheckoutRequestID"]

    [prompt] = await prompts(env, phone="+" + PAYER)
    assert prompt["checkout_request_id"] == checkout_id
    assert prompt["amount"] == 100
    assert prompt["status"] == "pending"
    assert env.receiver.requests == []
    assert env.sandbox.busy

    answer = await env.api.post(f"/sandbox-control/prompts/{checkout_id}", json={"action": action})
    assert answer.status_code == 200
    assert answer.json()["status"] == status
    await env.sandbox.drain()

    [body] = env.receiver.json_at(CALLBACK_URL)
    assert stk_callback(body)["ResultCode"] == code
    assert await prompts(env) == []


@pytest.mark.parametrize("sandbox_config", [MANUAL])
async def test_prompt_answer_errors(env: Env) -> None:
    checkout_id = (await push(env)).json()["CheckoutRequestID"]
    url = f"/sandbox-control/prompts/{checkout_id}"

    assert (await env.api.post(url, json={"action": "dance"})).status_code == 400
    assert (await env.api.post(url, content=b"nope")).status_code == 400
    assert (await env.api.post("/sandbox-control/prompts/ws_CO_1", json={"action": "approve"})).status_code == 404
    assert (await env.api.post(url, json={"action": "approve"})).status_code == 200
    again = await env.api.post(url, json={"action": "cancel"})
    assert again.status_code == 409
    await env.sandbox.drain()


@pytest.mark.parametrize("sandbox_config", [MANUAL])
async def test_test_numbers_ignore_manual_mode(env: Env) -> None:
    await push(env, phone="254708000001")
    await env.sandbox.drain()

    assert await prompts(env) == []
    [body] = env.receiver.json_at(CALLBACK_URL)
    assert stk_callback(body)["ResultCode"] == 1032


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(callback_delay_seconds=0, manual_phones=frozenset({"254711111111"}))]
)
async def test_manual_phones_only(env: Env) -> None:
    waiting = (await push(env, phone="254711111111")).json()["CheckoutRequestID"]
    await push(env)

    [prompt] = await prompts(env)
    assert prompt["checkout_request_id"] == waiting
    assert await prompts(env, phone="254711111111") == [prompt]
    assert await prompts(env, phone=PAYER) == []
    stk_prompt = env.sandbox.outbox.items(to="254711111111", kind="stk_push")[0]
    assert stk_prompt.payload["manual"] is True
    await env.api.post(f"/sandbox-control/prompts/{waiting}", json={"action": "approve"})
    await env.sandbox.drain()
    assert len(env.receiver.json_at(CALLBACK_URL)) == 2


@pytest.mark.parametrize(
    "sandbox_config", [SandboxConfig(callback_delay_seconds=0, manual_approval=True, prompt_timeout_seconds=0.01)]
)
async def test_unanswered_prompt_times_out(env: Env) -> None:
    await push(env, stk_body())
    await env.sandbox.drain()

    [body] = env.receiver.json_at(CALLBACK_URL)
    assert stk_callback(body)["ResultCode"] == 1037
    assert await prompts(env) == []


@pytest.mark.parametrize("sandbox_config", [MANUAL])
async def test_closing_the_sandbox_cancels_waiting_prompts(env: Env) -> None:
    await push(env)
    assert env.sandbox.busy

    await env.sandbox.aclose()

    assert not env.sandbox.busy
    assert env.receiver.requests == []
