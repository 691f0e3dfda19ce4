"""WhatsApp Cloud API message checks, with the documented limits, and Graph-shaped errors."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.responses import JSONResponse

TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_FOOTER_MAX = 60
BUTTONS_MAX = 3
BUTTON_TITLE_MAX = 20
BUTTON_ID_MAX = 256
LIST_BUTTON_MAX = 20
LIST_ROWS_MAX = 10
LIST_SECTIONS_MAX = 10
ROW_TITLE_MAX = 24
ROW_DESCRIPTION_MAX = 72
ROW_ID_MAX = 200
SECTION_TITLE_MAX = 24

_TITLES = {100: "Invalid parameter", 131008: "Required parameter is missing", 131009: "Parameter value is not valid"}


class GraphError(Exception):
    """A request the Graph API refuses, answered as {"error": {...}}."""

    def __init__(self, status_code: int, code: int, details: str, *, title: str | None = None) -> None:
        super().__init__(details)
        self.status_code = status_code
        self.code = code
        self.details = details
        self.title = title or _TITLES.get(code, "Error")

    def __repr__(self) -> str:
        return f"GraphError(status_code={self.status_code!r}, code={self.code!r}, details={self.details!r})"

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        """Render the error the way the Graph API does."""
        error = {
            "message": f"(#{self.code}) {self.title}",
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.details},
            "fbtrace_id": "A" + secrets.token_urlsafe(16),
        }
        return JSONResponse({"error": error}, status_code=self.status_code, headers=headers)


def _missing(name: str) -> GraphError:
    return GraphError(400, 131008, f"The parameter {name} is required.")


def _invalid(details: str) -> GraphError:
    return GraphError(400, 131009, details)


def _object(parent: dict[str, Any], name: str, path: str) -> dict[str, Any]:
    value = parent.get(name)
    if not isinstance(value, dict):
        raise _missing(f"{path}{name}")
    return value


def _string(parent: dict[str, Any], name: str, path: str, limit: int, *, required: bool = True) -> str:
    value = parent.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value:
        raise _missing(f"{path}{name}")
    if len(value) > limit:
        raise _invalid(f"{path}{name} length invalid. Min length: 1, Max length: {limit}")
    return value


def _unique(values: list[str], what: str) -> None:
    if len(set(values)) != len(values):
        raise _invalid(f"{what} must be unique")


def check_message(payload: dict[str, Any]) -> str:
    """Validate a send-message payload and return its type.

    Raises:
        GraphError: a missing parameter (131008) or a value outside the documented limits (131009).
    """
    if payload.get("messaging_product") != "whatsapp":
        raise GraphError(400, 100, "The parameter messaging_product is required.")
    to = payload.get("to")
    if not isinstance(to, str) or not to.strip("+").isdigit():
        raise _missing("to")
    kind = payload.get("type", "text")
    if kind == "text":
        _string(_object(payload, "text", ""), "body", "text.", TEXT_BODY_MAX)
    elif kind == "interactive":
        _check_interactive(_object(payload, "interactive", ""))
    elif kind == "template":
        template = _object(payload, "template", "")
        _string(template, "name", "template.", 512)
        _string(_object(template, "language", "template."), "code", "template.language.", 15)
    else:
        raise _invalid(f"Unsupported message type: {kind}")
    return str(kind)


def _check_interactive(interactive: dict[str, Any]) -> None:
    kind = interactive.get("type")
    if kind not in ("button", "list"):
        raise _invalid(f"interactive.type {kind!r} is not supported here (button or list)")
    _string(_object(interactive, "body", "interactive."), "text", "interactive.body.", INTERACTIVE_BODY_MAX)
    header = interactive.get("header")
    if isinstance(header, dict) and header.get("type") == "text":
        _string(header, "text", "interactive.header.", HEADER_FOOTER_MAX)
    footer = interactive.get("footer")
    if isinstance(footer, dict):
        _string(footer, "text", "interactive.footer.", HEADER_FOOTER_MAX)
    action = _object(interactive, "action", "interactive.")
    if kind == "button":
        _check_buttons(action)
    else:
        _check_list(action)


def _check_buttons(action: dict[str, Any]) -> None:
    buttons = action.get("buttons")
    if not isinstance(buttons, list) or not buttons:
        raise _missing("interactive.action.buttons")
    if len(buttons) > BUTTONS_MAX:
        raise _invalid(f"Number of buttons invalid. Min: 1, Max: {BUTTONS_MAX}")
    ids, titles = [], []
    for button in buttons:
        if not isinstance(button, dict) or button.get("type") != "reply":
            raise _invalid("interactive.action.buttons[].type must be reply")
        reply = _object(button, "reply", "interactive.action.buttons[].")
        ids.append(_string(reply, "id", "Button ", BUTTON_ID_MAX))
        titles.append(_string(reply, "title", "Button title ", BUTTON_TITLE_MAX))
    _unique(ids, "Button ids")
    _unique(titles, "Button titles")


def _check_list(action: dict[str, Any]) -> None:
    _string(action, "button", "interactive.action.", LIST_BUTTON_MAX)
    sections = action.get("sections")
    if not isinstance(sections, list) or not sections:
        raise _missing("interactive.action.sections")
    if len(sections) > LIST_SECTIONS_MAX:
        raise _invalid(f"Number of sections invalid. Min: 1, Max: {LIST_SECTIONS_MAX}")
    ids: list[str] = []
    for section in sections:
        if not isinstance(section, dict):
            raise _missing("interactive.action.sections[]")
        # A section title is optional only when there is a single section.
        _string(section, "title", "Section ", SECTION_TITLE_MAX, required=len(sections) > 1)
        rows = section.get("rows")
        if not isinstance(rows, list) or not rows:
            raise _missing("interactive.action.sections[].rows")
        for row in rows:
            if not isinstance(row, dict):
                raise _missing("interactive.action.sections[].rows[]")
            ids.append(_string(row, "id", "Row ", ROW_ID_MAX))
            _string(row, "title", "Row title ", ROW_TITLE_MAX)
            _string(row, "description", "Row description ", ROW_DESCRIPTION_MAX, required=False)
    if len(ids) > LIST_ROWS_MAX:
        raise _invalid(f"Total row count exceed max allowed count: {LIST_ROWS_MAX}")
    _unique(ids, "Row ids")


def render(payload: dict[str, Any]) -> str:
    """Return roughly what the phone shows for a validated message (for the outbox)."""
    kind = payload.get("type", "text")
    if kind == "text":
        return str(payload["text"]["body"])
    if kind == "template":
        template = payload["template"]
        params = [
            str(param.get("text", ""))
            for component in template.get("components", [])
            for param in component.get("parameters", [])
            if isinstance(param, dict)
        ]
        suffix = f": {' | '.join(params)}" if params else ""
        return f"[template {template['name']}/{template['language']['code']}]{suffix}"
    interactive = payload["interactive"]
    lines = [str(interactive["body"]["text"])]
    if interactive["type"] == "button":
        lines.append(" ".join(f"[{button['reply']['title']}]" for button in interactive["action"]["buttons"]))
    else:
        for section in interactive["action"]["sections"]:
            for row in section["rows"]:
                description = f" - {row['description']}" if row.get("description") else ""
                lines.append(f"* {row['title']}{description}")
    return "\n".join(lines)
