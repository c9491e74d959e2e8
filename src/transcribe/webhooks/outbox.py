"""The outbox: events are stored in the caller's transaction (`emit`), then queued and sent
(`deliver`); the delivery log (`view`, `page`) and `redeliver` serve the API."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from transcribe.clock import Clock, iso
from transcribe.config import WebhookSettings
from transcribe.metrics import Metrics
from transcribe.store.access import owned
from transcribe.store.db import Database
from transcribe.store.models import Application, Delivery, DeliveryAttempt, Recording
from transcribe.store.states import DeliveryStatus
from transcribe.views import AttemptView, DeliveryView
from transcribe.webhooks.delivery import CLAIM_S, attempt_delivery
from transcribe.webhooks.egress import HostSlots
from transcribe.webhooks.events import Event, create_delivery, create_notification, target

log = logging.getLogger(__name__)

Enqueue = Callable[[str], None]


@dataclass
class Outbox:
    db: Database
    clock: Clock
    settings: WebhookSettings
    metrics: Metrics
    enqueue: Enqueue
    slots: HostSlots = field(init=False)

    def __post_init__(self) -> None:
        self.slots = HostSlots(self.settings.max_per_host)

    def emit(
        self,
        session: Session,
        application: Application,
        recording: Recording,
        event: Event,
        payload: dict[str, Any],
    ) -> str | None:
        """Store `event` for delivery with the rest of `session`; returns the delivery id to
        queue once that commits (None: no URL to send it to, or it exists already).

        Where it goes: `transcribed` to transcription.eventUrl, else (both events) the
        record action's eventUrl, else the application's event URL."""
        record = recording.record_options or {}
        transcription = recording.transcription_options or {}
        choices = [(_url(record.get("eventUrl")), record.get("eventMethod"))]
        if event == "transcribed":
            choices.insert(
                0, (_url(transcription.get("eventUrl")), transcription.get("eventMethod"))
            )
        destination = target(application, *choices)
        if destination is None:
            log.info("no event URL for %s of %s; not sent", event, recording.uuid)
            return None
        delivery = create_delivery(
            session, application, recording, event, payload, destination, self.clock.now()
        )
        return delivery.id if delivery else None

    def notify(
        self, session: Session, application: Application, url: str, method: str,
        payload: dict[str, Any],
    ) -> str:  # fmt: skip
        """Store an NCCO `notify` for delivery with the rest of `session`: `payload` is the
        body (or the query for GET), signed and retried like every event. Returns the
        delivery id to queue once that commits."""
        delivery = create_notification(
            session, application, payload, (url, method.upper()), self.clock.now()
        )
        return delivery.id

    def deliver(self, delivery_id: str) -> None:
        """Queue task: one attempt of a stored event."""
        outcome = attempt_delivery(self.db, delivery_id, self.settings, self.clock, self.slots)
        self.metrics.webhook_attempts.labels(outcome.event, outcome.status).inc()

    def redeliver(self, application_id: str, delivery_id: str) -> DeliveryView:
        """Send an event again, with a fresh 24 hours of retries."""
        now = self.clock.now()
        with self.db.session() as session:
            delivery = owned(session, Delivery, delivery_id, application_id, now)
            delivery.status = DeliveryStatus.PENDING
            delivery.next_attempt_at = now + timedelta(seconds=CLAIM_S)
            delivery.created_at = now
        self.enqueue(delivery_id)
        return self.view(application_id, delivery_id)

    def page(
        self, application_id: str, recording_uuid: str | None, limit: int
    ) -> list[DeliveryView]:
        """This application's events, newest first."""
        with self.db.session() as session:
            query = select(Delivery.id).where(Delivery.application_id == application_id)
            if recording_uuid:
                query = query.where(Delivery.recording_uuid == recording_uuid)
            ids = session.scalars(query.order_by(Delivery.created_at.desc()).limit(limit)).all()
        return [self.view(application_id, i) for i in ids]

    def view(self, application_id: str, delivery_id: str) -> DeliveryView:
        with self.db.session() as session:
            d = owned(session, Delivery, delivery_id, application_id, self.clock.now())
            attempts = session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == d.id)
                .order_by(DeliveryAttempt.id)
            ).all()
            return DeliveryView(
                id=d.id,
                event=d.event,
                recording_uuid=d.recording_uuid,
                url=d.url,
                method=d.method,
                status=DeliveryStatus(d.status),
                payload=d.payload,
                attempts=[
                    AttemptView(
                        at=iso(a.attempted_at),
                        status_code=a.status_code,
                        error=a.error,
                        duration_ms=a.duration_ms,
                    )
                    for a in attempts
                ],
                next_attempt_at=iso(d.next_attempt_at)
                if d.status == DeliveryStatus.PENDING
                else None,
                created_at=iso(d.created_at),
            )


def _url(value: Any) -> str | None:
    """Vonage sends eventUrl as a one-element list; accept a plain string too."""
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None
