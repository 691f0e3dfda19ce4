"""Bearer API keys: who is calling (which organisation) and what they may do."""

from __future__ import annotations

from dataclasses import dataclass

from admin_api.errors import forbidden, unauthorized
from core import apikeys, audit
from core.clock import Clock
from core.tables import ApiKey
from core.uow import UowFactory


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: an organisation's key, detached from any session."""

    key: ApiKey
    org_id: int
    prefix: str
    actor: str

    def require(self, scope: str | None) -> None:
        """Raises a 403 ApiError unless the key holds ``scope`` (or ``admin``)."""
        if not apikeys.allows(self.key, scope):
            raise forbidden(scope or "")


def bearer_token(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(uow_factory: UowFactory, clock: Clock, header: str | None) -> Principal:
    """Check the ``Authorization`` header.

    Raises:
        ApiError: 401 when it is missing, malformed, unknown or revoked (all look the same).
    """
    token = bearer_token(header)
    if token is None:
        raise unauthorized()
    with uow_factory() as uow:
        key = apikeys.verify(uow, token, clock.now())
        if key is None:
            raise unauthorized("unknown or revoked API key")
        uow.commit()  # keeps last_used_at
    assert key.id is not None
    return Principal(key=key, org_id=key.org_id, prefix=key.prefix, actor=audit.actor_of(key))
