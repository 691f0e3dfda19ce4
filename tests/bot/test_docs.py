"""The documentation stays true: every setting and every public route is documented."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Mount, Route

from bot.settings import Settings
from bot.settings_doc import markdown

ROOT = Path(__file__).parents[2]


def test_configuration_doc_is_the_generated_reference() -> None:
    doc = (ROOT / "docs/configuration.md").read_text()
    assert markdown() in doc, "docs/configuration.md is stale: regenerate the table with `jumbe settings`"
    for name in Settings.model_fields:
        assert f"JUMBE_{name.upper()}" in doc


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```", 2)[1]
    assert [line for line in first_block.splitlines()[1:] if line.strip()] == ["make demo", "make test"]


def test_every_public_route_is_in_the_readme(client) -> None:  # type: ignore[no-untyped-def]
    readme = (ROOT / "README.md").read_text()
    for route in client.app.routes:
        if isinstance(route, Route) and not route.path.startswith(("/simulator/", "/admin")):
            assert route.path.split("{")[0].rstrip("/") in readme, route.path
        if isinstance(route, Mount) and not route.path.startswith("/simulator/"):
            assert route.path in readme, route.path
