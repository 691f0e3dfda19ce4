"""A self-contained HTML page listing every operation, rendered from the OpenAPI document."""

from __future__ import annotations

import json
from html import escape
from typing import Any

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h2{border-bottom:1px solid #ddd;margin-top:2.5rem} code,pre{font:13px ui-monospace,monospace}
.op{border:1px solid #e3e3e3;border-radius:6px;margin:.8rem 0;padding:.5rem .8rem}
.m{display:inline-block;min-width:4.2rem;font-weight:700} .GET{color:#0a6} .POST{color:#06c}
.PATCH{color:#a60} .PUT{color:#a60} .DELETE{color:#c22} .scope{color:#666;font-size:13px}
table{border-collapse:collapse;font-size:13px} td{padding:.1rem .6rem .1rem 0;vertical-align:top}
details pre{background:#f6f6f6;padding:.5rem;overflow:auto;max-height:24rem}
"""


def render(spec: dict[str, Any]) -> str:
    info = spec["info"]
    schemas = spec["components"]["schemas"]
    by_tag: dict[str, list[str]] = {}
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            by_tag.setdefault(operation["tags"][0], []).append(_operation(method.upper(), path, operation, schemas))
    sections = "".join(
        f"<h2 id='{escape(tag)}'>{escape(tag)}</h2>{''.join(items)}" for tag, items in sorted(by_tag.items())
    )
    contents = " · ".join(f"<a href='#{escape(tag)}'>{escape(tag)}</a>" for tag in sorted(by_tag))
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(info['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info['title'])} <small>{escape(info['version'])}</small></h1>"
        f"<p>{escape(info['description'])}</p>"
        "<p>Machine-readable: <a href='/admin/v1/openapi.json'>/admin/v1/openapi.json</a> (OpenAPI 3.1).</p>"
        f"<p>{contents}</p>{sections}</body></html>"
    )


def _operation(method: str, path: str, operation: dict[str, Any], schemas: dict[str, Any]) -> str:
    scope = operation.get("x-scope") or "any valid key"
    rows = "".join(
        f"<tr><td><code>{escape(p['name'])}</code></td><td>{escape(p['in'])}</td>"
        f"<td>{'required' if p.get('required') else ''}</td><td>{escape(p.get('description', ''))}</td></tr>"
        for p in operation.get("parameters", [])
    )
    body = ""
    request = operation.get("requestBody")
    if request:
        media, content = next(iter(request["content"].items()))
        body = (
            f"<details><summary>Request body ({escape(media)})</summary>{_schema(content['schema'], schemas)}</details>"
        )
    success = next(code for code in operation["responses"] if code.startswith("2"))
    answer = operation["responses"][success].get("content", {})
    response = ""
    if answer:
        media, content = next(iter(answer.items()))
        response = (
            f"<details><summary>Response {success} ({escape(media)})</summary>"
            f"{_schema(content['schema'], schemas)}</details>"
        )
    return (
        f"<div class='op'><span class='m {method}'>{method}</span> <code>{escape(path)}</code>"
        f" — {escape(operation['summary'])} <span class='scope'>scope: <code>{escape(scope)}</code></span>"
        f"{'<table>' + rows + '</table>' if rows else ''}{body}{response}</div>"
    )


def _schema(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    ref = schema.get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    resolved = schemas.get(name, schema)
    return f"<pre>{escape(name)} {escape(json.dumps(resolved, indent=2))}</pre>"
