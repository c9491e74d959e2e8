"""Time as a dependency: everything that schedules (webhook retries, job leases, retention)
asks a `Clock` for the time, so tests can move time on instead of waiting for it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until told to move (tests, simulations); thread-safe."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now


def iso(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a Z, as Vonage writes event times."""
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
