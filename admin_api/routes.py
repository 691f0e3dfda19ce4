"""The route table: every operation of every resource module, in documentation order."""

from __future__ import annotations

from admin_api import (
    accounts,
    audit_log,
    collections,
    contributions,
    imports,
    keys,
    loans,
    members,
    messages,
    organisation,
    payments,
    products,
    reminders,
    reports,
    sales,
    webhooks,
)
from admin_api.operations import Operation

ROUTE_TABLE: list[Operation] = [
    *organisation.operations,
    *members.operations,
    *accounts.operations,
    *imports.operations,
    *loans.operations,
    *contributions.operations,
    *payments.operations,
    *products.operations,
    *sales.operations,
    *collections.operations,
    *reminders.operations,
    *messages.operations,
    *reports.operations,
    *webhooks.operations,
    *keys.operations,
    *audit_log.operations,
]
