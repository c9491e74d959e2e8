"""The service: what the HTTP API and the queue workers do, with no HTTP in it.

One `Service` per process holds the settings, the database, the files, the queue and
(loaded on first use, or warmed at start-up) the model. API routes translate requests into
calls here; queue tasks (`transcribe`, `deliver`) and the periodic sweep call in here too.
Every method that touches a customer's data takes the caller's `application_id`, and
another application's recording is simply not found.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import or_, select, update

from transcribe.asr import Transcriber
from transcribe.asr.transcriber import normalise_language
from transcribe.audio import load_audio
from transcribe.auth import load_public_key, new_signature_secret
from transcribe.config import Settings
from transcribe.errors import InvalidRequestError, NotFoundError, TranscribeError
from transcribe.jobs import Jobs, make_huey
from transcribe.metrics import Metrics
from transcribe.store.db import Database, migrate
from transcribe.store.files import CONTENT_TYPES, FileStore, parse_uuid
from transcribe.store.models import (
    Application,
    Delivery,
    DeliveryAttempt,
    Recording,
    StoredFile,
    new_id,
    utcnow,
)
from transcribe.webhooks import (
    attempt_delivery,
    claim_due,
    create_delivery,
    transcribed_payload,
)
from transcribe.webhooks.delivery import CLAIM_S
from transcribe.webhooks.events import iso, target

log = logging.getLogger(__name__)

MAX_TRANSCRIPTION_ATTEMPTS = 3


@dataclass(frozen=True)
class FileView:
    """A stored file ready to serve."""

    path: Path
    content_type: str
    size: int
    etag: str
    name: str


class Service:
    """Composition root: settings, database, files, queue and model, and the operations."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.sqlalchemy_url)
        migrate(self.db.engine)
        self.files = FileStore(settings.files_dir)
        self.jobs = Jobs(
            make_huey(settings.queue_url, settings.data_dir),
            {"transcribe": self.run_transcription, "deliver": self.deliver},
        )
        self.metrics = Metrics()
        self.metrics.track_queue_depth(self.jobs.depth)
        self._transcriber: Transcriber | None = None
        self._model_lock = threading.Lock()
        self._model_error: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start_workers(self) -> None:
        self.jobs.start(
            self.settings.jobs.consumer_threads,
            self.sweep,
            min(self.settings.webhooks.sweep_interval_s, self.settings.jobs.heartbeat_s),
        )

    def close(self) -> None:
        self.jobs.stop()
        self.db.dispose()

    def transcriber(self) -> Transcriber:
        """The model, loaded once per process on first use."""
        with self._model_lock:
            if self._transcriber is None:
                try:
                    self._transcriber = Transcriber(self.settings.asr)
                except TranscribeError as exc:
                    self._model_error = exc.message
                    raise
            return self._transcriber

    def warm_up(self) -> None:
        """Load the model and run it once, so the first real job does not pay for it."""
        started = time.perf_counter()
        transcriber = self.transcriber()
        silence = np.zeros(16_000, np.float32)
        list(transcriber.model.transcribe(silence, language="en", vad_filter=False)[0])
        log.info("model warm in %.2f s", time.perf_counter() - started)

    @property
    def model_ready(self) -> bool:
        return self._transcriber is not None

    @property
    def model_error(self) -> str | None:
        return self._model_error

    def check_language(self, language: str | None) -> None:
        """Refuse a language the model cannot do. An API node without the model (its workers
        have it) checks only that the code is a language; a worker refuses the rest."""
        if self.settings.embedded_worker:
            self.transcriber().check_language(language)
        else:
            normalise_language(language)

    # -- applications ----------------------------------------------------------------------

    def create_application(
        self, name: str, public_key: str, event_url: str | None, event_method: str
    ) -> dict[str, Any]:
        load_public_key(public_key)
        with self.db.session() as session:
            application = Application(
                name=name,
                public_key=public_key,
                signature_secret=new_signature_secret(),
                event_url=event_url,
                event_method=event_method.upper(),
            )
            session.add(application)
            session.flush()
            return {
                "id": application.id,
                "name": application.name,
                "signature_secret": application.signature_secret,
                "event_url": application.event_url,
                "event_method": application.event_method,
                "created_at": iso(application.created_at),
            }

    def public_key_for(self, application_id: str) -> str | None:
        if parse_uuid(application_id) is None:
            return None
        with self.db.session() as session:
            application = session.get(Application, application_id)
            return application.public_key if application else None

    # -- recordings --------------------------------------------------------------------------

    def _expiry(self) -> datetime:
        return utcnow() + timedelta(days=self.settings.retention_days)

    def accept_recording_upload(
        self,
        application_id: str,
        upload: Path,
        options: dict[str, Any],
    ) -> Recording:
        """An existing recording file to transcribe (POST /v1/transcriptions)."""
        audio = load_audio(upload)  # refuse what we cannot decode before storing anything
        self.check_language(options.get("language"))
        ext = _extension(audio.source_format)
        now = utcnow()
        with self.db.session() as session:
            recording = Recording(
                application_id=application_id,
                conversation_uuid=new_id(),
                status="ready",
                format=ext,
                channels=audio.channels,
                duration=round(audio.duration, 3),
                end_reason="upload",
                start_time=now,
                end_time=now,
                transcription_status="queued",
                transcription_options=options,
                heartbeat_at=now,
                expires_at=self._expiry(),
            )
            session.add(recording)
            session.flush()
            self._adopt_file(session, recording, upload, ext, "recording")
        self.jobs.enqueue("transcribe", recording.uuid)
        return recording

    def _adopt_file(
        self, session: Any, recording: Recording, source: Path, ext: str, kind: str
    ) -> StoredFile:
        file_uuid = new_id()
        name, size, sha = self.files.adopt(source, file_uuid, ext)
        stored = StoredFile(
            uuid=file_uuid,
            application_id=recording.application_id,
            recording_uuid=recording.uuid,
            kind=kind,
            name=name,
            content_type=CONTENT_TYPES[ext],
            size=size,
            sha256=sha,
            expires_at=recording.expires_at,
        )
        session.add(stored)
        if kind == "recording":
            recording.file_uuid = file_uuid
            recording.size = size
        else:
            recording.transcription_file_uuid = file_uuid
        return stored

    def file_url(self, file_uuid: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/v1/files/{file_uuid}"

    # -- transcription job -------------------------------------------------------------------

    def run_transcription(self, recording_uuid: str) -> None:
        """Queue task: transcribe a recording, store the document, send `transcribed`."""
        if not self._claim_transcription(recording_uuid):
            return
        stop_heartbeat = self._heartbeat(recording_uuid)
        error: str | None = None
        document_path: Path | None = None
        try:
            with self.db.session() as session:
                recording = session.get(Recording, recording_uuid)
                assert recording is not None and recording.file_uuid is not None
                stored = session.get(StoredFile, recording.file_uuid)
                assert stored is not None
                source = self.files.path(stored.name)
                language = (recording.transcription_options or {}).get("language")
            started = time.perf_counter()
            document = self.transcriber().transcribe(load_audio(source), language=language)
            document_path = self.files.tmp_path(".json")
            document_path.write_text(document.model_dump_json())
            log.info("transcribed %s in %.1f s", recording_uuid, time.perf_counter() - started)
        except TranscribeError as exc:
            error = exc.message
        except Exception as exc:  # a bug or a broken file: report it, do not retry forever
            log.exception("transcription of %s failed", recording_uuid)
            error = f"internal error: {type(exc).__name__}"
        finally:
            stop_heartbeat()
        self.metrics.jobs.labels("transcribe", "failed" if error else "done").inc()
        self._finish_transcription(recording_uuid, document_path, error)

    def _claim_transcription(self, recording_uuid: str) -> bool:
        with self.db.session() as session:
            result = session.execute(
                update(Recording)
                .where(
                    Recording.uuid == recording_uuid,
                    Recording.transcription_status == "queued",
                )
                .values(
                    transcription_status="running",
                    heartbeat_at=utcnow(),
                    transcription_attempts=Recording.transcription_attempts + 1,
                )
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def _heartbeat(self, recording_uuid: str) -> Any:
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.settings.jobs.heartbeat_s):
                with self.db.session() as session:
                    session.execute(
                        update(Recording)
                        .where(Recording.uuid == recording_uuid)
                        .values(heartbeat_at=utcnow())
                    )

        thread = threading.Thread(target=beat, name=f"heartbeat-{recording_uuid}", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join()

        return halt

    def _finish_transcription(
        self, recording_uuid: str, document_path: Path | None, error: str | None
    ) -> None:
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
                stored = self._adopt_file(
                    session, recording, document_path, "json", "transcription"
                )
                url = self.file_url(stored.uuid)
                recording.transcription_status = "done"
            else:
                recording.transcription_status = "failed"
                recording.transcription_error = error
            delivery = self._event(
                session,
                application,
                recording,
                "transcribed",
                transcribed_payload(recording, url, error),
            )
        if delivery:
            self.jobs.enqueue("deliver", delivery)

    def _event(
        self,
        session: Any,
        application: Application,
        recording: Recording,
        event: str,
        payload: dict[str, Any],
    ) -> str | None:
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
        delivery = create_delivery(session, application, recording, event, payload, destination)
        return delivery.id if delivery else None

    # -- webhooks -----------------------------------------------------------------------------

    def deliver(self, delivery_id: str) -> None:
        """Queue task: one attempt of a stored event."""
        outcome = attempt_delivery(self.db, delivery_id, self.settings.webhooks)
        self.metrics.webhook_attempts.labels(outcome.event, outcome.status).inc()

    def redeliver(self, application_id: str, delivery_id: str) -> dict[str, Any]:
        with self.db.session() as session:
            delivery = self._owned(session, Delivery, delivery_id, application_id)
            delivery.status = "pending"
            delivery.next_attempt_at = utcnow() + timedelta(seconds=CLAIM_S)
            delivery.created_at = utcnow()  # a fresh 24 hours of retries
        self.jobs.enqueue("deliver", delivery_id)
        return self.delivery_view(application_id, delivery_id)

    def list_deliveries(
        self, application_id: str, recording_uuid: str | None, limit: int
    ) -> list[dict[str, Any]]:
        with self.db.session() as session:
            query = select(Delivery.id).where(Delivery.application_id == application_id)
            if recording_uuid:
                query = query.where(Delivery.recording_uuid == recording_uuid)
            ids = session.scalars(query.order_by(Delivery.created_at.desc()).limit(limit)).all()
        return [self.delivery_view(application_id, i) for i in ids]

    def delivery_view(self, application_id: str, delivery_id: str) -> dict[str, Any]:
        with self.db.session() as session:
            d = self._owned(session, Delivery, delivery_id, application_id)
            attempts = session.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == d.id)
                .order_by(DeliveryAttempt.id)
            ).all()
            return {
                "id": d.id,
                "event": d.event,
                "recording_uuid": d.recording_uuid,
                "url": d.url,
                "method": d.method,
                "status": d.status,
                "payload": d.payload,
                "attempts": [
                    {
                        "at": iso(a.attempted_at),
                        "status_code": a.status_code,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    }
                    for a in attempts
                ],
                "next_attempt_at": iso(d.next_attempt_at) if d.status == "pending" else None,
                "created_at": iso(d.created_at),
            }

    # -- the periodic sweep -----------------------------------------------------------------

    def sweep(self) -> None:
        """Re-find work the queue may have lost; purge what has expired."""
        for delivery_id in claim_due(self.db):
            self.jobs.enqueue("deliver", delivery_id)
        for recording_uuid in self._stale_transcriptions():
            self.jobs.enqueue("transcribe", recording_uuid)
        self.purge_expired()

    def _stale_transcriptions(self) -> list[str]:
        """Jobs whose worker stopped beating (killed, crashed): queue them again, or give up."""
        now = utcnow()
        stale = now - timedelta(seconds=self.settings.jobs.stale_after_s)
        lost = now - timedelta(seconds=10 * self.settings.jobs.stale_after_s)
        requeue: list[str] = []
        give_up: list[tuple[str, int]] = []
        with self.db.session() as session:
            rows = session.scalars(
                select(Recording).where(
                    or_(
                        (Recording.transcription_status == "running")
                        & (Recording.heartbeat_at < stale),
                        (Recording.transcription_status == "queued")
                        & (Recording.heartbeat_at < lost),
                    )
                )
            ).all()
            for recording in rows:
                recording.heartbeat_at = now
                if recording.transcription_attempts >= MAX_TRANSCRIPTION_ATTEMPTS:
                    give_up.append((recording.uuid, recording.transcription_attempts))
                else:
                    log.warning("transcription of %s went quiet; queued again", recording.uuid)
                    recording.transcription_status = "queued"
                    requeue.append(recording.uuid)
        for recording_uuid, attempts in give_up:
            reason = f"the worker stopped {attempts} times while transcribing this recording"
            self._finish_transcription(recording_uuid, None, reason)
        return requeue

    def purge_expired(self) -> int:
        """Delete recordings, transcripts and their files past their expiry."""
        now = utcnow()
        with self.db.session() as session:
            expired = session.scalars(select(Recording.uuid).where(Recording.expires_at <= now))
            uuids = list(expired)
        for recording_uuid in uuids:
            self._erase(recording_uuid)
        if uuids:
            log.info("retention: deleted %d expired recordings", len(uuids))
        return len(uuids)

    def _erase(self, recording_uuid: str) -> None:
        with self.db.session() as session:
            files = session.scalars(
                select(StoredFile).where(StoredFile.recording_uuid == recording_uuid)
            ).all()
            names = [f.name for f in files]
            for f in files:
                session.delete(f)
            recording = session.get(Recording, recording_uuid)
            if recording is not None:
                session.delete(recording)
        for name in names:
            self.files.delete(name)

    # -- reading -----------------------------------------------------------------------------

    def _owned(self, session: Any, model: Any, key: str, application_id: str) -> Any:
        canonical = parse_uuid(key)
        row = session.get(model, canonical) if canonical else None
        if row is None or row.application_id != application_id:
            raise NotFoundError(f"no {model.__tablename__[:-1]} {key!r}")
        return row

    def recording_view(self, application_id: str, recording_uuid: str) -> dict[str, Any]:
        with self.db.session() as session:
            recording = self._owned(session, Recording, recording_uuid, application_id)
            return self._view(recording)

    def _view(self, r: Recording) -> dict[str, Any]:
        options = r.transcription_options
        return {
            "recording_uuid": r.uuid,
            "conversation_uuid": r.conversation_uuid,
            "status": r.status,
            "error": r.error,
            "format": r.format,
            "channels": r.channels,
            "duration": r.duration,
            "size": r.size,
            "end_reason": r.end_reason,
            "start_time": iso(r.start_time) if r.start_time else None,
            "end_time": iso(r.end_time) if r.end_time else None,
            "recording_url": self.file_url(r.file_uuid) if r.file_uuid else None,
            "transcription": None
            if options is None
            else {
                "status": r.transcription_status,
                "language": options.get("language"),
                "transcription_url": self.file_url(r.transcription_file_uuid)
                if r.transcription_file_uuid
                else None,
                "error": r.transcription_error,
            },
            "created_at": iso(r.created_at),
            "expires_at": iso(r.expires_at),
        }

    def list_recordings(
        self,
        application_id: str,
        *,
        limit: int,
        cursor: str | None,
        conversation_uuid: str | None,
        status: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first; the cursor is the last item's (created_at, uuid), opaque to callers."""
        query = select(Recording).where(Recording.application_id == application_id)
        if conversation_uuid:
            query = query.where(Recording.conversation_uuid == conversation_uuid)
        if status:
            query = query.where(Recording.status == status)
        if cursor:
            created, after = _decode_cursor(cursor)
            query = query.where(
                or_(
                    Recording.created_at < created,
                    (Recording.created_at == created) & (Recording.uuid < after),
                )
            )
        query = query.order_by(Recording.created_at.desc(), Recording.uuid.desc()).limit(limit + 1)
        with self.db.session() as session:
            rows = session.scalars(query).all()
            items = [self._view(r) for r in rows[:limit]]
            next_cursor = (
                _encode_cursor(rows[limit - 1].created_at, rows[limit - 1].uuid)
                if len(rows) > limit
                else None
            )
        return items, next_cursor

    def delete_recording(self, application_id: str, recording_uuid: str) -> None:
        with self.db.session() as session:
            recording = self._owned(session, Recording, recording_uuid, application_id)
            uuid = recording.uuid
        self._erase(uuid)

    def file(self, application_id: str, file_uuid: str) -> FileView:
        with self.db.session() as session:
            stored = self._owned(session, StoredFile, file_uuid, application_id)
            if stored.expires_at <= utcnow():
                raise NotFoundError(f"no file {file_uuid!r}")
            return FileView(
                path=self.files.path(stored.name),
                content_type=stored.content_type,
                size=stored.size,
                etag=f'"{stored.sha256}"',
                name=stored.name,
            )

    def delete_file(self, application_id: str, file_uuid: str) -> None:
        """Erase one file now; the recording stays, its URL for this file answers 404."""
        with self.db.session() as session:
            stored = self._owned(session, StoredFile, file_uuid, application_id)
            recording = session.get(Recording, stored.recording_uuid)
            if recording is not None:
                if recording.file_uuid == stored.uuid:
                    recording.file_uuid = None
                if recording.transcription_file_uuid == stored.uuid:
                    recording.transcription_file_uuid = None
            name = stored.name
            session.delete(stored)
        self.files.delete(name)

    def queue_depth(self) -> int:
        return self.jobs.depth()


def _extension(source_format: str) -> str:
    return {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "FLAC": "flac", "MP3": "mp3"}.get(
        source_format, "ogg"
    )


def _url(value: Any) -> str | None:
    """Vonage sends eventUrl as a one-element list; accept a plain string too."""
    if isinstance(value, list):
        return str(value[0]) if value else None
    return str(value) if value else None


def _encode_cursor(created_at: datetime, uuid: str) -> str:
    return f"{created_at.timestamp():.6f}_{uuid}"


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        stamp, uuid = cursor.split("_", 1)
        return datetime.fromtimestamp(float(stamp), UTC), uuid
    except ValueError as exc:
        raise InvalidRequestError("cursor is not one this API returned", field="cursor") from exc
