"""The settings reference, generated from :class:`bot.settings.Settings` (``jumbe settings``)."""

from __future__ import annotations

import ast
import inspect

from pydantic import SecretStr

from bot import settings as settings_module
from bot.settings import Settings


def _docstrings() -> dict[str, str]:
    """The docstring written under each field, as rq's defaults.py documents its constants."""
    tree = ast.parse(inspect.getsource(settings_module))
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name == "Settings":
            for field, after in zip(node.body, node.body[1:], strict=False):
                if isinstance(field, ast.AnnAssign) and isinstance(field.target, ast.Name):
                    if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                        found[field.target.id] = " ".join(str(after.value.value).split())
    return found


def markdown() -> str:
    docs = _docstrings()
    lines = ["| variable | default | what it is |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(secret)" if isinstance(default, SecretStr) else f"`{default}`" if default not in ("", None) else "—"
        lines.append(f"| `JUMBE_{name.upper()}` | {shown} | {docs.get(name, '').replace('|', '/')} |")
    return "\n".join(lines)
