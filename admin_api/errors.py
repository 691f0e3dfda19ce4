"""Every failure as ``{"error": {"code", "message", "field"}}`` with the status that fits it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from core.errors import Conflict, DomainError, NotFound, PinLocked
from core.roster import ImportRejected


class ApiError(Exception):
    """An answer other than success, raised anywhere in a request and rendered once."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        field: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def __repr__(self) -> str:
        return f"ApiError({self.status}, {self.code!r}, {self.message!r}, field={self.field!r})"

    def response(self) -> JSONResponse:
        detail: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field, **self.extra}
        return JSONResponse({"error": detail}, status_code=self.status, headers=self.headers)


def unauthorized(message: str = "send Authorization: Bearer <api key>") -> ApiError:
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="jumbe"'})


def forbidden(scope: str) -> ApiError:
    return ApiError(403, "forbidden", f"this key lacks the {scope!r} scope", "scope")


def from_domain(exc: DomainError) -> ApiError:
    """Map the domain's error tree to HTTP: missing 404, clash 409, bad value 422."""
    if isinstance(exc, ImportRejected):
        rows = [{"row": r.row, "field": r.field, "message": r.message} for r in exc.rows]
        return ApiError(422, exc.code, exc.message, exc.field, extra={"rows": rows})
    if isinstance(exc, NotFound):
        return ApiError(404, exc.code, exc.message, exc.field)
    if isinstance(exc, Conflict | PinLocked):
        return ApiError(409, exc.code, exc.message, exc.field)
    return ApiError(422, exc.code, exc.message, exc.field)  # Invalid, and any other rule that said no


def from_validation(exc: ValidationError, where: str = "body") -> ApiError:
    """The first problem pydantic found, naming the field by its dotted path."""
    first = exc.errors(include_url=False)[0]
    if first.get("type") == "json_invalid":
        return ApiError(400, "bad_json", f"the body is not valid JSON: {first.get('msg', '')}", None)
    loc = ".".join(str(part) for part in first.get("loc", ()))
    message = str(first.get("msg", "invalid value"))
    if first.get("type") == "extra_forbidden":
        message = "unknown query parameter" if where == "query" else "unknown field"
    if first.get("type") == "model_type":
        message = "send a JSON object"
    return ApiError(422, "invalid", f"{loc or where}: {message}" if loc else message, loc or None)


def not_found_route(request: Request, exc: Exception) -> Response:
    return ApiError(404, "not_found", f"no such endpoint: {request.url.path}").response()


def method_not_allowed(request: Request, exc: Exception) -> Response:
    """405 keeps the router's ``Allow`` header (every method the path has)."""
    allow = (getattr(exc, "headers", None) or {}).get("Allow")
    headers = {"Allow": allow} if allow else None
    return ApiError(405, "method_not_allowed", f"{request.method} is not allowed here", headers=headers).response()
