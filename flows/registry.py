"""Every flow, once. The main menu, SMS keywords and the engine are built from this list.

A new flow is one module in ``flows/``, its test, and one line here.
"""

from __future__ import annotations

import dataclasses

from flows.agent_today import AgentToday
from flows.balance import CheckBalance
from flows.base import Flow
from flows.collections import PayCollection
from flows.language import ChooseLanguage
from flows.log_sale import LogSale
from flows.menu import MainMenu
from flows.optout import Help, OptIn, OptOut
from flows.pay import PayFlow
from flows.pin import ChangePin, PinFlow
from flows.resume import Resume
from flows.statement import MiniStatement
from flows.void_sale import VoidSale

EVERYONE = frozenset({"member", "agent", "officer"})
MEMBERS = frozenset({"member", "officer"})
AGENTS = frozenset({"agent"})
OFFICERS = frozenset({"officer"})


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
    anywhere: bool = False
    """Its keywords also work in the middle of another flow (chat channels), e.g. STOP at a PIN prompt."""


SPECS: tuple[FlowSpec, ...] = (
    FlowSpec("log_sale", LogSale, "sales.menu", AGENTS, keywords=("SALE", "UZA")),
    FlowSpec("agent_today", AgentToday, "agent.menu_today", AGENTS, needs_pin=True, keywords=("TODAY", "LEO")),
    FlowSpec("collections", PayCollection, "collections.menu", AGENTS, needs_pin=True, keywords=("OWE", "DENI")),
    FlowSpec("balance", CheckBalance, "menu.balance", MEMBERS, needs_pin=True, keywords=("BAL", "SALIO")),
    FlowSpec("statement", MiniStatement, "menu.statement", MEMBERS, needs_pin=True, keywords=("MINI",)),
    FlowSpec("pay", PayFlow, "pay.menu", MEMBERS, needs_pin=True, keywords=("PAY", "LIPA")),
    FlowSpec("language", ChooseLanguage, "menu.language", keywords=("LANG", "LUGHA")),
    FlowSpec("change_pin", ChangePin, "menu.change_pin", needs_pin=True),
    FlowSpec("void_sale", VoidSale, "void.menu", OFFICERS, needs_pin=True, keywords=("VOID", "FUTA")),
    FlowSpec("menu", MainMenu, needs_pin=True),
    FlowSpec("pin", PinFlow),
    FlowSpec("resume", Resume),
    FlowSpec("opt_out", OptOut, keywords=("STOP", "ACHA"), anywhere=True),
    FlowSpec("opt_in", OptIn, keywords=("START", "ANZA"), anywhere=True),
    FlowSpec("help", Help, keywords=("HELP", "MSAADA"), anywhere=True),
)

FLOWS: dict[str, FlowSpec] = {spec.name: spec for spec in SPECS}


def menu_entries(role: str | None) -> list[FlowSpec]:
    return [spec for spec in SPECS if spec.label and (role or "member") in spec.roles]


def by_keyword(word: str) -> FlowSpec | None:
    upper = word.strip().upper()
    return next((spec for spec in SPECS if upper in spec.keywords), None)
