"""What each event says and where it goes (DESIGN.md, "Webhooks")."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy.orm import Session

from transcribe.clock import iso
from transcribe.store.models import Application, Delivery, Recording
from transcribe.webhooks.delivery import CLAIM_S

# Delivery ids derive from (recording, event), so a job that runs twice (a worker died and
# the job was retried) still produces one event per recording: receivers see one id.
_NAMESPACE = uuid.UUID("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a")

Event = Literal["record", "transcribed"]  # and "notify", from an NCCO (`create_notification`)


def record_payload(recording: Recording, recording_url: str, now: datetime) -> dict[str, Any]:
    assert recording.start_time and recording.end_time and recording.size is not None
    return {
        "start_time": iso(recording.start_time),
        "recording_url": recording_url,
        "size": recording.size,
        "recording_uuid": recording.uuid,
        "end_time": iso(recording.end_time),
        "conversation_uuid": recording.conversation_uuid,
        "timestamp": iso(now),
    }


def record_failed_payload(recording: Recording, error: str, now: datetime) -> dict[str, Any]:
    """`record` for a recording whose file could not be made: the fields that exist, with
    `status: "failed"` and the `error` (never a server path)."""
    payload: dict[str, Any] = {}
    if recording.start_time:
        payload["start_time"] = iso(recording.start_time)
    payload["recording_uuid"] = recording.uuid
    if recording.end_time:
        payload["end_time"] = iso(recording.end_time)
    payload.update(
        conversation_uuid=recording.conversation_uuid,
        timestamp=iso(now),
        status="failed",
        error=error,
    )
    return payload


def transcribed_payload(
    recording: Recording, transcription_url: str | None, error: str | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "conversation_uuid": recording.conversation_uuid,
        "recording_uuid": recording.uuid,
        "status": "transcribed" if error is None else "failed",
        "type": "record",
    }
    if error is None:
        payload["transcription_url"] = transcription_url
    else:
        payload["error"] = error
    return payload


def target(
    application: Application, *choices: tuple[str | None, str | None]
) -> tuple[str, str] | None:
    """The first (url, method) given, else the application's event URL; None if none at all."""
    for url, method in choices:
        if url:
            return url, (method or "POST").upper()
    if application.event_url:
        return application.event_url, application.event_method.upper()
    return None


def create_delivery(
    session: Session,
    application: Application,
    recording: Recording,
    event: Event,
    payload: dict[str, Any],
    destination: tuple[str, str],
    now: datetime,
) -> Delivery | None:
    """Store the event for delivery; None if this recording already has this event."""
    delivery_id = str(uuid.uuid5(_NAMESPACE, f"{recording.uuid}/{event}"))
    if session.get(Delivery, delivery_id) is not None:
        return None
    delivery = _new_delivery(application, event, payload, destination, now)
    delivery.id = delivery_id
    delivery.recording_uuid = recording.uuid
    session.add(delivery)
    return delivery


def create_notification(
    session: Session,
    application: Application,
    payload: dict[str, Any],
    destination: tuple[str, str],
    now: datetime,
) -> Delivery:
    """Store an NCCO `notify` for delivery: it belongs to no recording."""
    delivery = _new_delivery(application, "notify", payload, destination, now)
    session.add(delivery)
    session.flush()
    return delivery


def _new_delivery(
    application: Application,
    event: str,
    payload: dict[str, Any],
    destination: tuple[str, str],
    now: datetime,
) -> Delivery:
    url, method = destination
    return Delivery(
        application_id=application.id,
        event=event,
        url=url,
        method=method,
        payload=payload,
        # Leased to the attempt enqueued right away; the sweeper takes over if that is lost.
        next_attempt_at=now + timedelta(seconds=CLAIM_S),
        created_at=now,
    )
