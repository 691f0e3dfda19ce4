"""The string catalog: every user-facing word comes from ``flows/locales/<lang>/*.toml``.

Each feature ships its own file in every language; a test fails if a key or a placeholder
is missing from one of them.
"""

from __future__ import annotations

import string
import tomllib
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "sw")
DEFAULT = "en"
_ROOT = Path(__file__).parent / "locales"


@cache
def catalog(lang: str) -> dict[str, str]:
    """All strings of ``lang`` as ``{"file.key": text}``."""
    merged: dict[str, str] = {}
    for path in sorted((_ROOT / lang).glob("*.toml")):
        with path.open("rb") as fh:
            for key, value in tomllib.load(fh).items():
                merged[f"{path.stem}.{key}"] = str(value)
    return merged


def t(lang: str | None, key: str, /, **values: object) -> str:
    """Translate ``key`` ("balance.title") into ``lang`` and fill its ``{placeholders}``."""
    table = catalog(lang if lang in LANGUAGES else DEFAULT)
    try:
        text = table[key]
    except KeyError:
        raise KeyError(f"missing string {key!r} for language {lang!r}") from None
    return text.format(**values) if values else text


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
