"""Every flow, once. The main menu, SMS keywords and the engine are built from this list.

A new flow is one module in ``flows/``, its test, and one line here.
"""

from __future__ import annotations

import dataclasses

from flows.balance import CheckBalance
from flows.base import Flow
from flows.language import ChooseLanguage
from flows.menu import MainMenu
from flows.pin import ChangePin, PinFlow
from flows.resume import Resume
from flows.statement import MiniStatement

EVERYONE = frozenset({"member", "agent", "officer"})
MEMBERS = frozenset({"member", "officer"})
AGENTS = frozenset({"agent"})


@dataclasses.dataclass(frozen=True, slots=True)
class FlowSpec:
    name: str
    cls: type[Flow]
    label: str = ""
    """Catalog key of the main-menu label; empty for flows that are not in the menu."""
    roles: frozenset[str] = EVERYONE
    needs_pin: bool = False
    keywords: tuple[str, ...] = ()
    """SMS keywords (English and Swahili) that open the flow directly."""


SPECS: tuple[FlowSpec, ...] = (
    FlowSpec("balance", CheckBalance, "menu.balance", MEMBERS, needs_pin=True, keywords=("BAL", "SALIO")),
    FlowSpec("statement", MiniStatement, "menu.statement", MEMBERS, needs_pin=True, keywords=("MINI",)),
    FlowSpec("language", ChooseLanguage, "menu.language", keywords=("LANG", "LUGHA")),
    FlowSpec("change_pin", ChangePin, "menu.change_pin", needs_pin=True),
    FlowSpec("menu", MainMenu, needs_pin=True),
    FlowSpec("pin", PinFlow),
    FlowSpec("resume", Resume),
)

FLOWS: dict[str, FlowSpec] = {spec.name: spec for spec in SPECS}


def menu_entries(role: str | None) -> list[FlowSpec]:
    return [spec for spec in SPECS if spec.label and (role or "member") in spec.roles]


def by_keyword(word: str) -> FlowSpec | None:
    upper = word.strip().upper()
    return next((spec for spec in SPECS if upper in spec.keywords), None)
