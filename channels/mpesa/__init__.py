"""M-Pesa Daraja (M-Pesa Express / STK push): client, callback parser and result codes."""

from channels.mpesa.callback import StkCallback, parse_callback
from channels.mpesa.client import DEFAULT_TIMEOUT, DarajaClient
from channels.mpesa.config import LIVE_URL, SANDBOX_URL, DarajaCredentials, TransactionType
from channels.mpesa.errors import (
    DarajaAuthError,
    DarajaError,
    InvalidAccessToken,
    MalformedCallback,
    PushOutcomeUnknown,
)
from channels.mpesa.responses import StkPushAccepted, StkQueryResult
from channels.mpesa.results import RESULT_CODES, Outcome, ResultInfo, describe, outcome_for

__all__ = [
    "DEFAULT_TIMEOUT",
    "LIVE_URL",
    "RESULT_CODES",
    "SANDBOX_URL",
    "DarajaAuthError",
    "DarajaClient",
    "DarajaCredentials",
    "DarajaError",
    "InvalidAccessToken",
    "MalformedCallback",
    "Outcome",
    "PushOutcomeUnknown",
    "ResultInfo",
    "StkCallback",
    "StkPushAccepted",
    "StkQueryResult",
    "TransactionType",
    "describe",
    "outcome_for",
    "parse_callback",
]
