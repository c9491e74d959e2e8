"""Sending one attempt of a stored event, and deciding when to try again.

Retried: timeouts, connection errors, 5xx, 408 and 429, with exponential backoff and jitter,
until `give_up_after_s` after the event. Any other answer is final, and so is a destination
in a blocked network (`blocked`: not contacted; see `egress`). Every attempt is recorded.
An attempt whose host already has `max_per_host` attempts in flight is not made: the
delivery waits HOST_BUSY_WAIT_S and a sweeper queues it again.

A due delivery is claimed with an atomic update (its next attempt is pushed ahead by a
lease) before it is queued, so the sweepers of several workers never queue it twice;
if the queued attempt is lost, the lease runs out and a sweeper queues it again.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update

from transcribe.auth.signing import sign_webhook
from transcribe.clock import Clock
from transcribe.config import WebhookSettings
from transcribe.limits import HOST_BUSY_WAIT_S
from transcribe.store.db import Database
from transcribe.store.models import Application, Delivery, DeliveryAttempt
from transcribe.store.states import DeliveryStatus
from transcribe.urls import without_credentials
from transcribe.webhooks.egress import Answer, HostSlots, host_of, send

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429})
# A queued attempt holds its delivery this long before a sweeper may queue it again.
CLAIM_S = 120.0


@dataclass(frozen=True)
class Outcome:
    event: str
    status: str  # a DeliveryStatus, or skipped (not pending) or postponed (host busy)
    status_code: int | None
    error: str | None


def next_delay(attempts: int, settings: WebhookSettings, rng: random.Random | None = None) -> float:
    """Seconds before attempt `attempts + 1`: base * 2^(attempts-1), capped, +-25% jitter."""
    base = min(settings.backoff_max_s, settings.backoff_base_s * 2 ** max(0, attempts - 1))
    jitter: float = (rng or random).uniform(0.75, 1.25)
    return float(base * jitter)


def claim_due(db: Database, now: datetime, limit: int = 100) -> list[str]:
    """Take the deliveries whose next attempt is due; returns their ids."""
    with db.session() as session:
        due = session.scalars(
            select(Delivery.id)
            .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at)
            .limit(limit)
        ).all()
    return [d for d in due if _claim(db, d, now)]


def _claim(db: Database, delivery_id: str, now: datetime) -> bool:
    with db.session() as session:
        result = session.execute(
            update(Delivery)
            .where(
                Delivery.id == delivery_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + timedelta(seconds=CLAIM_S))
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def attempt_delivery(
    db: Database, delivery_id: str, settings: WebhookSettings, clock: Clock, slots: HostSlots
) -> Outcome:
    """Send the event once, record the attempt, and schedule the next one if it failed."""
    with db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return Outcome("unknown", "skipped", None, "not pending")
        application = session.get(Application, delivery.application_id)
        assert application is not None
        event, url, method, payload = (
            delivery.event,
            delivery.url,
            delivery.method,
            delivery.payload,
        )
        app_id, secret = application.id, application.signature_secret
    host = host_of(url)
    with slots.hold(host) as free:
        if not free:
            _postpone(db, delivery_id, clock.now() + timedelta(seconds=HOST_BUSY_WAIT_S))
            return Outcome(event, "postponed", None, f"{host} is busy")
        started = time.perf_counter()
        answer = _send(url, method, payload, (app_id, secret), settings)
        duration_ms = round((time.perf_counter() - started) * 1000)
    status, attempts = _record(db, delivery_id, (answer, duration_ms), settings, clock.now())
    log.info(
        "webhook %s %s %s -> %s (attempt %d, %s)",
        delivery_id,
        method,
        without_credentials(url),
        answer.status_code or answer.error,
        attempts,
        status,
    )
    return Outcome(event, status, answer.status_code, answer.error)


def _postpone(db: Database, delivery_id: str, due: datetime) -> None:
    """Hand the delivery back to the sweeper, due at `due`; no attempt is counted."""
    with db.session() as session:
        session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
            .values(next_attempt_at=due)
        )


def _send(
    url: str,
    method: str,
    payload: dict[str, Any],
    signer: tuple[str, str],
    settings: WebhookSettings,
) -> Answer:
    """One signed request (`signer`: the application's id and signature secret)."""
    app_id, secret = signer
    params: dict[str, str] = {}
    if method == "GET":
        params = {k: str(v) for k, v in payload.items()}
        query = str(httpx.QueryParams(params)).encode()
        headers = {"Authorization": f"Bearer {sign_webhook(app_id, secret, query)}"}
        body = b""
    else:
        body = json.dumps(payload, separators=(",", ":")).encode()
        headers = {
            "Authorization": f"Bearer {sign_webhook(app_id, secret, body)}",
            "Content-Type": "application/json",
        }
    return send(
        method,
        url,
        params=params,
        headers=headers,
        body=body,
        timeout_s=settings.timeout_s,
        blocked=settings.blocked_networks,
    )


def _record(
    db: Database,
    delivery_id: str,
    attempt: tuple[Answer, int],
    settings: WebhookSettings,
    now: datetime,
) -> tuple[DeliveryStatus, int]:
    """Store the attempt (its answer and duration in ms) and decide what comes next:
    delivered, another try after a backoff, or failed or blocked for good. Returns (status,
    attempts)."""
    answer, duration_ms = attempt
    status_code, error = answer.status_code, answer.error
    delivered = status_code is not None and 200 <= status_code < 300
    retryable = not answer.blocked and (
        status_code is None or status_code >= 500 or status_code in RETRY_STATUSES
    )
    with db.session() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        delivery.attempts += 1
        delivery.last_status_code = status_code
        delivery.last_error = error
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                attempted_at=now,
                status_code=status_code,
                error=error,
                duration_ms=duration_ms,
            )
        )
        status = DeliveryStatus.BLOCKED if answer.blocked else DeliveryStatus.FAILED
        if delivered:
            status = DeliveryStatus.DELIVERED
        elif retryable:
            due = now + timedelta(seconds=next_delay(delivery.attempts, settings))
            if due - delivery.created_at <= timedelta(seconds=settings.give_up_after_s):
                status = DeliveryStatus.PENDING
                delivery.next_attempt_at = due
        delivery.status = status
        return status, delivery.attempts
