"""Reading a customer's row: the one rule for 'not found'."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from transcribe.errors import NotFoundError
from transcribe.store.files import parse_uuid

Row = TypeVar("Row")


def owned(session: Session, model: type[Row], key: str, application_id: str, now: datetime) -> Row:
    """The row if it exists, is this application's and has not expired (the purge of an
    expired one may not have run yet; it is gone for callers all the same). Anything else,
    another application's row included, is simply not found."""
    canonical = parse_uuid(key)
    row = session.get(model, canonical) if canonical else None
    expires = getattr(row, "expires_at", None)  # deliveries do not expire
    if (
        row is None
        or getattr(row, "application_id", None) != application_id
        or (expires is not None and expires <= now)
    ):
        table: Any = getattr(model, "__tablename__", "row")
        raise NotFoundError(f"no {str(table)[:-1]} {key!r}")
    return row
