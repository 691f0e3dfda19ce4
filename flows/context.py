"""What a flow may use while it handles one message: the organisation, the member, the services."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import Clock
from core.tables import Member, Organisation
from core.uow import UnitOfWork, UowFactory


@dataclasses.dataclass(slots=True, kw_only=True)
class FlowContext:
    """Dependencies of flows, built by the engine for each hop.

    ``services`` carries optional collaborators by name (for example ``payments``), so a new
    feature can hand its port to its flows without changing this class.
    """

    org: Organisation
    uow_factory: UowFactory
    clock: Clock
    member: Member | None = None
    services: dict[str, Any] = dataclasses.field(default_factory=dict)

    def uow(self) -> UnitOfWork:
        return self.uow_factory()

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """Today in the organisation's time zone (due dates are local dates)."""
        return self.clock.now().astimezone(ZoneInfo(self.org.timezone)).date()

    def service(self, name: str) -> Any:
        try:
            return self.services[name]
        except KeyError:
            raise LookupError(f"service {name!r} is not configured") from None
