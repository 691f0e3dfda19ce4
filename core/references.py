"""Human references numbered per organisation: ``S-000123`` for sales, ``C-000045`` for collections."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from core.tables import ReferenceCounter
from core.uow import UnitOfWork


def next_reference(uow: UnitOfWork, org_id: int, prefix: str) -> str:
    """Hand out the next number for ``prefix`` in ``org_id``, inside the caller's transaction.

    The counter row is bumped with one ``UPDATE ... RETURNING`` so concurrent callers (each in
    its own transaction) serialise on that row and never get the same number.
    """
    number = _bump(uow, org_id, prefix)
    if number is None:
        try:
            with uow.session.begin_nested():
                uow.session.add(ReferenceCounter(org_id=org_id, prefix=prefix, last=0))
        except IntegrityError:
            pass  # someone else created it first; bumping below is still right
        number = _bump(uow, org_id, prefix)
        assert number is not None
    return f"{prefix}-{number:06d}"


def _bump(uow: UnitOfWork, org_id: int, prefix: str) -> int | None:
    row = uow.session.execute(
        update(ReferenceCounter)
        .where(col(ReferenceCounter.org_id) == org_id, col(ReferenceCounter.prefix) == prefix)
        .values(last=col(ReferenceCounter.last) + 1)
        .returning(col(ReferenceCounter.last))
        .execution_options(synchronize_session=False)
    ).first()
    return None if row is None else int(row[0])
