"""The OpenAPI 3.1 document, built from the route table and its pydantic models (never by hand)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from admin_api import idempotency
from admin_api.operations import Operation
from admin_api.schemas import MAX_ID, ErrorBody

PREFIX = "/admin/v1"
REF = "#/components/schemas/{model}"
_ERRORS = {
    "400": "Unreadable request (bad JSON, bad header)",
    "401": "Missing, unknown or revoked API key",
    "403": "The key lacks the scope",
    "404": "No such thing in this organisation",
    "409": "Conflicts with the current state (duplicate, reused idempotency key...)",
    "422": "A value failed validation; `field` names it",
    "429": "Too many requests for this key; see Retry-After",
}
_WRITE_ONLY_ERRORS = {"409"}


def document(operations: Sequence[Operation], *, title: str, version: str) -> dict[str, Any]:
    refs, components = _schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        path = PREFIX + operation.path
        paths.setdefault(path, {})[operation.method.lower()] = _operation(operation, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": (
                "The back office of a Jumbe organisation. JSON in and out; amounts are integer minor "
                "units with a currency; timestamps are ISO 8601 UTC; lists are cursor-paginated, newest "
                "first. Authenticate with `Authorization: Bearer <api key>`; each operation names the "
                "scope it needs (`admin` holds every scope)."
            ),
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key."}},
        },
        "security": [{"bearer": []}],
        "tags": sorted(({"name": tag} for tag in {o.tag for o in operations}), key=lambda t: t["name"]),
    }


Refs = dict[tuple[type[BaseModel], str], dict[str, Any]]
"""(model, "validation" | "serialization") -> ``{"$ref": ...}``."""


def _schemas(operations: Sequence[Operation]) -> tuple[Refs, dict[str, Any]]:
    wanted: list[tuple[type[BaseModel], Any]] = [(ErrorBody, "serialization")]
    for operation in operations:
        if operation.body is not None:
            wanted.append((operation.body, "validation"))
        if operation.response is not None:
            wanted.append((operation.response, "serialization"))
    unique = list(dict.fromkeys(wanted))
    keys, top = models_json_schema(unique, ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    for operation in operations:  # enums and models used only by query strings
        if operation.query is not None:
            schemas.update(operation.query.model_json_schema(ref_template=REF).get("$defs", {}))
    refs: Refs = {(cast(type[BaseModel], model), str(mode)): dict(ref) for (model, mode), ref in keys.items()}
    return refs, schemas


def _operation(operation: Operation, refs: Refs) -> dict[str, Any]:
    scope = operation.scope or "any valid key"
    description = operation.description or operation.summary
    spec: dict[str, Any] = {
        "operationId": operation.name,
        "summary": operation.summary,
        "description": f"{description}\n\nScope: `{scope}`.",
        "tags": [operation.tag],
        "x-scope": operation.scope,
        "parameters": _parameters(operation),
        "responses": _responses(operation, refs),
    }
    if operation.body is not None:
        required = bool(operation.body.model_json_schema().get("required"))
        spec["requestBody"] = {
            "required": required,
            "content": {"application/json": {"schema": refs[(operation.body, "validation")]}},
        }
    elif operation.request_media_type != "application/json":
        spec["requestBody"] = {
            "required": True,
            "content": {operation.request_media_type: {"schema": {"type": "string"}}},
        }
    return spec


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
        }
        for name in operation.path_params
    ]
    if operation.query is not None:
        schema = operation.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            param["schema"] = _not_null(prop)
            if "description" in prop:
                param["description"] = prop["description"]
            params.append(param)
    if operation.idempotent:
        params.append(
            {
                "name": idempotency.HEADER,
                "in": "header",
                "required": False,
                "description": "Retry safely: a repeat with the same key returns the first response.",
                "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
            }
        )
    return params


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query value is never JSON null: keep the non-null branch of ``X | None``."""
    schema = {k: v for k, v in prop.items() if k not in ("title", "description", "default")}
    options = schema.pop("anyOf", None)
    if options is not None:
        kept = [option for option in options if option != {"type": "null"}]
        schema.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
    if "default" in prop and prop["default"] is not None:
        schema["default"] = prop["default"]
    return schema


def _responses(operation: Operation, refs: Refs) -> dict[str, Any]:
    success: dict[str, Any] = {"description": operation.summary}
    if operation.response is not None:
        success["content"] = {"application/json": {"schema": refs[(operation.response, "serialization")]}}
    elif operation.media_type != "application/json":
        success["content"] = {operation.media_type: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(operation.status): success}
    for status, description in _ERRORS.items():
        if status in _WRITE_ONLY_ERRORS and not operation.writes:
            continue
        response: dict[str, Any] = {
            "description": description,
            "content": {"application/json": {"schema": refs[(ErrorBody, "serialization")]}},
        }
        if status == "429":
            response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds."}}
        responses[status] = response
    return responses
