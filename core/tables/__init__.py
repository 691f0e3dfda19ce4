"""Every table, so that ``SQLModel.metadata`` (and Alembic) sees them all by importing this package."""

from core.tables.admin import (
    ApiKey,
    AuditLog,
    DeliveryStatus,
    IdempotencyRecord,
    WebhookDelivery,
    WebhookSubscription,
)
from core.tables.contacts import Contact
from core.tables.ledger import DEBIT_NORMAL, Account, AccountKind, LedgerEntry, LedgerTransaction
from core.tables.loans import ContributionPlan, Installment, Loan, LoanStatus
from core.tables.messages import Direction, MessageLog, MessageStatus
from core.tables.org import BindingKind, ChannelBinding, Member, Organisation, Role
from core.tables.payments import OPEN_STATES, Payment, PaymentPurpose, PaymentState
from core.tables.reminders import (
    Audience,
    Broadcast,
    BroadcastMessage,
    BroadcastState,
    DeliveryState,
    Reminder,
    ReminderRule,
    TargetKind,
)
from core.tables.sales import (
    Collection,
    CollectionPolicy,
    CollectionStatus,
    CommissionRule,
    PaymentMethod,
    Product,
    ReferenceCounter,
    Sale,
    SaleItem,
    SaleStatus,
    UnmatchedPayment,
)

__all__ = [
    "Contact",
    "Direction",
    "MessageLog",
    "MessageStatus",
    "ApiKey",
    "AuditLog",
    "DeliveryStatus",
    "IdempotencyRecord",
    "WebhookDelivery",
    "WebhookSubscription",
    "DEBIT_NORMAL",
    "Account",
    "AccountKind",
    "Audience",
    "BindingKind",
    "Broadcast",
    "BroadcastMessage",
    "BroadcastState",
    "ChannelBinding",
    "ContributionPlan",
    "DeliveryState",
    "Installment",
    "LedgerEntry",
    "LedgerTransaction",
    "Loan",
    "LoanStatus",
    "Member",
    "Organisation",
    "OPEN_STATES",
    "Payment",
    "PaymentPurpose",
    "PaymentState",
    "Reminder",
    "ReminderRule",
    "Role",
    "TargetKind",
    "Collection",
    "CollectionPolicy",
    "CollectionStatus",
    "CommissionRule",
    "PaymentMethod",
    "Product",
    "ReferenceCounter",
    "Sale",
    "SaleItem",
    "SaleStatus",
    "UnmatchedPayment",
]
