"""What happens when a recording's work ends: its file is stored (`ready`), or could not be
made (`render_failed`), or its transcription ends (`transcription_finished`). Each stores
the outcome, its webhook and the next job in one transaction, then queues them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from transcribe import search
from transcribe.clock import Clock
from transcribe.document import TranscriptionDocument
from transcribe.metrics import Metrics
from transcribe.recording.engine import RecordingResult
from transcribe.recordings.files import RecordingFiles
from transcribe.store.db import Database
from transcribe.store.models import Application, Recording
from transcribe.store.states import FileKind, JobTask, RecordingStatus, TranscriptionStatus
from transcribe.urls import Urls
from transcribe.webhooks.events import (
    record_failed_payload,
    record_payload,
    transcribed_payload,
)
from transcribe.webhooks.outbox import Outbox

log = logging.getLogger(__name__)

Enqueue = Callable[[JobTask, str], None]


@dataclass
class Lifecycle:
    db: Database
    files: RecordingFiles
    urls: Urls
    outbox: Outbox
    enqueue: Enqueue
    clock: Clock
    metrics: Metrics

    def ready(
        self, recording_uuid: str, result: RecordingResult, start: datetime, end: datetime
    ) -> None:
        """A recording's file is written: store it, send `record`, queue its transcription."""
        delivery: str | None = None
        transcribe = False
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is None:  # deleted meanwhile
                result.path.unlink(missing_ok=True)
                return
            application = session.get(Application, recording.application_id)
            assert application is not None
            stored = self.files.adopt(
                session, recording, result.path, result.format, FileKind.RECORDING
            )
            recording.status = RecordingStatus.READY
            recording.format = result.format
            describe_call(recording, result, start, end)
            if recording.transcription_options is not None:
                recording.transcription_status = TranscriptionStatus.QUEUED
                recording.heartbeat_at = self.clock.now()
                transcribe = True
            payload = record_payload(recording, self.urls.file(stored.uuid), self.clock.now())
            delivery = self.outbox.emit(session, application, recording, "record", payload)
        if delivery:
            self.enqueue(JobTask.DELIVER, delivery)
        if transcribe:
            self.enqueue(JobTask.TRANSCRIBE, recording_uuid)

    def render_failed(self, recording_uuid: str, error: str) -> None:
        """No file could be made: store why and send `record` with `status: "failed"` and
        `error` (which names no server path), so the caller is not left waiting."""
        self.metrics.jobs.labels(JobTask.RENDER, "failed").inc()
        delivery: str | None = None
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is not None:
                recording.status = RecordingStatus.FAILED
                recording.error = error
                application = session.get(Application, recording.application_id)
                assert application is not None
                payload = record_failed_payload(recording, error, self.clock.now())
                delivery = self.outbox.emit(session, application, recording, "record", payload)
        if delivery:
            self.enqueue(JobTask.DELIVER, delivery)
        self.files.drop_legs(recording_uuid)

    def transcription_finished(
        self, recording_uuid: str, document_path: Path | None, error: str | None
    ) -> None:
        """Store the document (or the error), make it searchable, and send `transcribed`."""
        delivery: str | None = None
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is None:  # deleted while we worked
                if document_path:
                    document_path.unlink(missing_ok=True)
                return
            application = session.get(Application, recording.application_id)
            assert application is not None
            url = None
            if document_path is not None:
                document = TranscriptionDocument.model_validate_json(document_path.read_bytes())
                search.index_transcript(session, recording, document)
                stored = self.files.adopt(
                    session, recording, document_path, "json", FileKind.TRANSCRIPTION
                )
                url = self.urls.file(stored.uuid)
                recording.transcription_status = TranscriptionStatus.DONE
            else:
                recording.transcription_status = TranscriptionStatus.FAILED
                recording.transcription_error = error
            payload = transcribed_payload(recording, url, error)
            delivery = self.outbox.emit(session, application, recording, "transcribed", payload)
        if delivery:
            self.enqueue(JobTask.DELIVER, delivery)


def describe_call(
    recording: Recording, result: RecordingResult, start: datetime, end: datetime
) -> None:
    """What the recording's view says of the call: its shape, how long, how it ended."""
    recording.channels = result.channels
    recording.duration = round(result.duration, 3)
    recording.end_reason = result.end_reason
    recording.start_time = start
    recording.end_time = end
