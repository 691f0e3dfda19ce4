"""Every table, so that ``SQLModel.metadata`` (and Alembic) sees them all by importing this package."""

from core.tables.ledger import DEBIT_NORMAL, Account, AccountKind, LedgerEntry, LedgerTransaction
from core.tables.loans import ContributionPlan, Installment, Loan, LoanStatus
from core.tables.org import BindingKind, ChannelBinding, Member, Organisation, Role

__all__ = [
    "DEBIT_NORMAL",
    "Account",
    "AccountKind",
    "BindingKind",
    "ChannelBinding",
    "ContributionPlan",
    "Installment",
    "LedgerEntry",
    "LedgerTransaction",
    "Loan",
    "LoanStatus",
    "Member",
    "Organisation",
    "Role",
]
