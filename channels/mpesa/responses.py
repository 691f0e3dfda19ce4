"""What Daraja answers to an STK push and an STK query, as typed values."""

from __future__ import annotations

import dataclasses

from channels.mpesa.results import Outcome, outcome_for


@dataclasses.dataclass(frozen=True, slots=True)
class StkPushAccepted:
    """Daraja accepted the push for processing. The customer has NOT paid yet."""

    merchant_request_id: str
    checkout_request_id: str
    response_code: str
    response_description: str
    customer_message: str


@dataclasses.dataclass(frozen=True, slots=True)
class StkQueryResult:
    """What the STK query says about a push.

    Attributes:
        result_code: Daraja's ``ResultCode`` as an int; ``None`` if there is none yet.
        result_desc: Daraja's words, for logs and admins.
        pending: no final answer yet; ask again later.
    """

    result_code: int | None
    result_desc: str
    pending: bool

    @property
    def outcome(self) -> Outcome | None:
        """The final outcome, or ``None`` while pending."""
        if self.pending or self.result_code is None:
            return None
        return outcome_for(self.result_code)
