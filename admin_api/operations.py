"""The route table's entries: what each operation takes, needs and returns, declared once.

The request pipeline, the OpenAPI document, the docs page and the tests all read these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from admin_api.schemas import Money
from core.clock import Clock
from core.tables import ApiKey, Organisation
from core.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Raw:
    """A non-JSON answer (CSV exports)."""

    body: str
    media_type: str
    filename: str | None = None


@dataclass(frozen=True, slots=True)
class Jobs:
    """Background work the admin API hands to the application (admin_api cannot import bot)."""

    query_payment: Callable[[int], None] | None = None
    """Ask M-Pesa how a payment ended, in a job (the status query)."""
    dispatch_outbound: Callable[[], None] | None = None
    """Send whatever reminders and broadcast messages are due now, in a job."""


@dataclass(slots=True)
class Call:
    """One authorised request, inside its unit of work: what a handler gets."""

    uow: UnitOfWork
    org: Organisation
    key: ApiKey
    actor: str
    clock: Clock
    params: dict[str, int]
    query: Any
    body: Any
    raw: bytes
    resource_id: str | int | None = None
    """Set by a handler whose audit entry should name an id the response does not show."""
    audit_details: dict[str, Any] = field(default_factory=dict)
    commit: bool = True
    """A handler sets False to answer without keeping anything (dry runs)."""
    jobs: Jobs = field(default_factory=Jobs)
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    """Run once the transaction has committed (queueing jobs that must see its rows)."""

    @property
    def org_id(self) -> int:
        assert self.org.id is not None
        return self.org.id

    def now(self) -> datetime:
        return self.clock.now()

    def money(self, amount: int) -> Money:
        """An amount in the organisation's currency, as the API shows money."""
        return Money(amount=amount, currency=self.org.currency)

    def today(self) -> date:
        """Today in the organisation's time zone (due dates are local dates)."""
        return self.clock.now().astimezone(ZoneInfo(self.org.timezone)).date()


Handler = Callable[[Call], BaseModel | Raw]


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path under ``/admin/v1``."""

    method: str
    path: str
    """Relative to /admin/v1, with ``{name}`` integer parameters: ``/members/{member_id}``."""
    name: str
    """operationId, and the audit log's action for writes: ``members.create``."""
    summary: str
    tag: str
    handler: Handler
    scope: str | None
    """What the key must hold (``admin`` holds everything); None: any valid key."""
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int = 200
    idempotent: bool = False
    """Takes an ``Idempotency-Key`` header: POSTs that create things or move money."""
    media_type: str = "application/json"
    request_media_type: str = "application/json"
    description: str = ""

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def starlette_path(self) -> str:
        return "/v1" + re.sub(r"{(\w+)}", r"{\1:int}", self.path)


def op(
    method: str,
    path: str,
    name: str,
    summary: str,
    *,
    tag: str,
    scope: str | None,
    **options: Any,
) -> Callable[[Handler], Operation]:
    """Decorate a handler into an :class:`Operation` (the module lists them in ``operations``)."""

    def wrap(handler: Handler) -> Operation:
        return Operation(
            method=method, path=path, name=name, summary=summary, tag=tag, handler=handler, scope=scope, **options
        )

    return wrap
