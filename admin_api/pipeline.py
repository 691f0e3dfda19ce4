"""One request through an operation: key, rate, scope, input, idempotency, the work, audit, answer."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from admin_api import idempotency
from admin_api.auth import Principal, authenticate
from admin_api.errors import ApiError, from_domain, from_validation
from admin_api.operations import Call, Jobs, Operation, Raw
from admin_api.ratelimit import RateLimiter, retry_after
from admin_api.schemas import MAX_ID
from core import audit
from core.clock import Clock
from core.errors import DomainError
from core.tables import Organisation
from core.uow import UowFactory

_logger = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class Deps:
    """What the admin API needs from the application that mounts it."""

    uow_factory: UowFactory
    clock: Clock
    limiter: RateLimiter | None = None
    jobs: Jobs = field(default_factory=Jobs)


@dataclass(frozen=True, slots=True)
class Parsed:
    params: dict[str, int]
    query: Any
    body: Any
    raw: bytes
    idempotency_key: str | None
    request_hash: str


def endpoint(op: Operation, deps: Deps) -> Endpoint:
    """The Starlette endpoint running ``op``; every failure becomes a JSON error, never a traceback."""

    async def handle(request: Request) -> Response:
        try:
            principal = await run_in_threadpool(_admit, deps, request.headers.get("authorization"))
            principal.require(op.scope)
            parsed = _parse(op, request, await request.body())
            return await run_in_threadpool(_execute, op, deps, principal, parsed, request.url.path)
        except ApiError as exc:
            return exc.response()
        except DomainError as exc:
            return from_domain(exc).response()
        except Exception:
            _logger.exception("admin API %s failed", op.name)
            return ApiError(500, "internal", "something went wrong on our side; it has been logged").response()

    handle.__name__ = op.name.replace(".", "_")
    return handle


def _admit(deps: Deps, authorization: str | None) -> Principal:
    principal = authenticate(deps.uow_factory, deps.clock, authorization)
    if deps.limiter is not None:
        wait = deps.limiter.take(principal.prefix)
        if wait > 0:
            raise ApiError(
                429,
                "rate_limited",
                "too many requests for this key; slow down",
                headers={"Retry-After": retry_after(wait)},
            )
    return principal


def _parse(op: Operation, request: Request, raw: bytes) -> Parsed:
    params: dict[str, int] = {}
    for name in op.path_params:
        value = request.path_params[name]
        if not 1 <= value <= MAX_ID:
            raise ApiError(404, "not_found", f"no such {name.removesuffix('_id')}", name)
        params[name] = value
    query: Any = None
    if op.query is not None:
        try:
            query = op.query.model_validate(dict(request.query_params))
        except ValidationError as exc:
            raise from_validation(exc, "query") from None
    body: Any = None
    if op.body is not None:
        try:
            # No body at all is an empty object (POST /members/1/reset-pin needs none); anything else must be JSON.
            body = op.body.model_validate_json(raw or b"{}", strict=True)
        except ValidationError as exc:
            raise from_validation(exc) from None
    elif op.request_media_type == "text/csv":
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError(400, "bad_csv", "the CSV must be UTF-8 text", "csv") from None
        if "\x00" in body:
            raise ApiError(400, "bad_csv", "the CSV contains NUL characters", "csv")
    key = idempotency.check_key(request.headers.get(idempotency.HEADER)) if op.idempotent else None
    request_hash = idempotency.fingerprint(op.method, request.url.path, request.url.query, raw) if key else ""
    return Parsed(params, query, body, raw, key, request_hash)


def _execute(op: Operation, deps: Deps, principal: Principal, parsed: Parsed, path: str) -> Response:
    try:
        return _work(op, deps, principal, parsed, path)
    except IntegrityError:
        # A unique constraint stopped a write (at flush or commit); the transaction is rolled back.
        replay = _recorded(deps, principal, parsed)
        if replay is not None:
            return replay
        raise ApiError(409, "conflict", "a concurrent request changed the same thing; fetch it and retry") from None
    except (DomainError, ApiError):
        # A twin request with our key may have committed while we ran (we then see its effects, e.g.
        # "phone already registered"): its answer is the one to give.
        replay = _recorded(deps, principal, parsed)
        if replay is not None:
            return replay
        raise


def _work(op: Operation, deps: Deps, principal: Principal, parsed: Parsed, path: str) -> Response:
    now = deps.clock.now()
    key = parsed.idempotency_key
    with deps.uow_factory() as uow:
        org = uow.session.get(Organisation, principal.org_id)
        if org is None:  # the key outlived its organisation
            raise ApiError(401, "unauthorized", "unknown or revoked API key")
        if key is not None:
            record = idempotency.find(uow, principal.org_id, key, now)
            if record is not None:
                idempotency.matches(record, parsed.request_hash)
                return _replayed(record.status_code, record.body, record.media_type)
        call = Call(
            uow=uow,
            org=org,
            key=principal.key,
            actor=principal.actor,
            clock=deps.clock,
            params=parsed.params,
            query=parsed.query,
            body=parsed.body,
            raw=parsed.raw,
            jobs=deps.jobs,
        )
        result = op.handler(call)
        text, media_type, headers = _render(result)
        if not op.writes or not call.commit:
            return Response(text, op.status, headers=headers, media_type=media_type)
        audit.record(
            uow,
            principal.org_id,
            principal.actor,
            op.name,
            op.tag,
            _resource_id(call, result),
            {**_details(parsed.body), **call.audit_details},
        )
        if key is not None:
            idempotency.remember(
                uow,
                principal.org_id,
                key,
                method=op.method,
                path=path,
                request_hash=parsed.request_hash,
                status_code=op.status,
                media_type=media_type,
                body=text,
                now=now,
            )
        uow.commit()
    for job in call.after_commit:
        try:
            job()
        except Exception:  # the change is committed and answered; a lost follow-up is logged
            _logger.exception("admin API %s: follow-up after commit failed", op.name)
    return Response(text, op.status, headers=headers, media_type=media_type)


def _recorded(deps: Deps, principal: Principal, parsed: Parsed) -> Response | None:
    """The stored answer for this request's idempotency key, if another request has recorded one."""
    if parsed.idempotency_key is None:
        return None
    with deps.uow_factory() as uow:
        record = idempotency.find(uow, principal.org_id, parsed.idempotency_key, deps.clock.now())
        if record is None:
            return None
        idempotency.matches(record, parsed.request_hash)
        return _replayed(record.status_code, record.body, record.media_type)


def _render(result: BaseModel | Raw) -> tuple[str, str, dict[str, str]]:
    if isinstance(result, Raw):
        headers = {}
        if result.filename:
            headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return result.body, result.media_type, headers
    return result.model_dump_json(), "application/json", {}


def _replayed(status: int, body: str, media_type: str) -> Response:
    return Response(body, status, headers={"Idempotent-Replayed": "true"}, media_type=media_type)


def _resource_id(call: Call, result: BaseModel | Raw) -> str | int | None:
    if call.resource_id is not None:
        return call.resource_id
    found = getattr(result, "id", None)
    if isinstance(found, int | str):
        return found
    values = list(call.params.values())
    return values[-1] if values else None


def _details(body: Any) -> dict[str, Any]:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json", exclude_unset=True)
    return {}
