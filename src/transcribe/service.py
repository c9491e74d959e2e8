"""The service: what the HTTP API and the queue workers do, with no HTTP in it.

One `Service` per process holds the settings, the database, the files, the queue and
(loaded on first use, or warmed at start-up) the model. API routes translate requests into
calls here; queue tasks (`transcribe`, `deliver`) and the periodic sweep call in here too.
Every method that touches a customer's data takes the caller's `application_id`, and
another application's recording is simply not found.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import soundfile as sf
from sqlalchemy import or_, select, update

from transcribe.analytics import Analyzer
from transcribe.asr import Transcriber
from transcribe.asr.transcriber import normalise_language
from transcribe.audio import load_audio, stream_audio
from transcribe.auth import TokenVerifier, load_public_key, new_signature_secret
from transcribe.config import Settings
from transcribe.errors import (
    ConflictError,
    InvalidParametersError,
    InvalidRequestError,
    NotFoundError,
    TranscribeError,
)
from transcribe.jobs import Jobs, make_huey
from transcribe.metrics import Metrics
from transcribe.ncco import ConversationAction, RecordAction, RecordingFormat, parse_ncco
from transcribe.recording.encoders import transcode
from transcribe.recording.engine import EndReason, RecordingResult
from transcribe.recording.render import LegFile, render_files
from transcribe.store.db import Database, migrate
from transcribe.store.files import CONTENT_TYPES, FileStore, parse_uuid
from transcribe.store.models import (
    Application,
    Conversation,
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
    record_payload,
    transcribed_payload,
)
from transcribe.webhooks.delivery import CLAIM_S
from transcribe.webhooks.events import iso, target

log = logging.getLogger(__name__)

MAX_JOB_ATTEMPTS = 3
LIVE_WAV = "live.wav"  # a live call's recording while it goes on, in the recording's folder


# Files up to this size (transcripts, in practice) are kept in memory once read: they never
# change, and fetching transcription_url is the hottest read path of the API.
SMALL_FILE_BYTES = 256 * 1024
FILE_CACHE_ENTRIES = 512


@dataclass(frozen=True)
class FileView:
    """A stored file ready to serve; `body` holds the bytes of a small one."""

    application_id: str
    path: Path
    content_type: str
    size: int
    etag: str
    name: str
    expires_at: datetime
    body: bytes | None


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
            {
                "render": self.run_render,
                "transcribe": self.run_transcription,
                "deliver": self.deliver,
            },
        )
        self.metrics = Metrics()
        self.metrics.track_queue_depth(self.jobs.depth)
        self._transcriber: Transcriber | None = None
        self._model_lock = threading.Lock()
        self.tokens = TokenVerifier(self.public_key_for)
        self._analyzer: Analyzer | None = None
        self._file_cache: OrderedDict[str, FileView] = OrderedDict()
        self._file_cache_lock = threading.Lock()
        self._model_error: str | None = None
        self._warm = threading.Event()

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
                self._transcriber = Transcriber(self.settings.asr, self.metrics.observe_asr_batch)
            return self._transcriber

    def analyzer(self) -> Analyzer:
        """The spaCy step, loaded on first use, once per process."""
        with self._model_lock:
            if self._analyzer is None:
                self._analyzer = Analyzer()
            return self._analyzer

    def warm_up(self) -> None:
        """Load the model and run it once, so the first real job does not pay for it."""
        started = time.perf_counter()
        try:
            transcriber = self.transcriber()
            silence = np.zeros(16_000, np.float32)
            list(transcriber.model.transcribe(silence, language="en", vad_filter=False)[0])
            self.analyzer().analyze_texts(["Could you send me the invoice by Friday?"])
        except TranscribeError as exc:  # either model: /readyz says which and why
            self._model_error = exc.message
            raise
        settle_heap()
        self._warm.set()
        log.info("models loaded and warm in %.2f s", time.perf_counter() - started)

    @property
    def model_ready(self) -> bool:
        """Both models are loaded and have run once (loading holds the GIL: not before)."""
        return self._warm.is_set()

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
        with _named(upload, "file"):
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

    # -- live conversations --------------------------------------------------------------

    def create_conversation(self, application_id: str, ncco: object) -> str:
        """Store a conversation whose legs will join over WebSockets; returns its uuid."""
        actions = parse_ncco(ncco)
        if not any(isinstance(a, RecordAction) or a.record for a in actions):
            raise InvalidParametersError(
                [("ncco", "needs a record action or a conversation with record: true")]
            )
        with self.db.session() as session:
            conversation = Conversation(
                application_id=application_id,
                ncco=[a.model_dump(by_alias=True, exclude_none=True) for a in actions],
                expires_at=self._expiry(),
            )
            session.add(conversation)
            session.flush()
            return conversation.uuid

    def conversation_actions(
        self, application_id: str, conversation_uuid: str
    ) -> list[RecordAction | ConversationAction]:
        """The actions of an open conversation of this application."""
        with self.db.session() as session:
            conversation = self._owned(session, Conversation, conversation_uuid, application_id)
            if conversation.status != "open":
                raise ConflictError("this conversation has ended; create a new one")
            return parse_ncco(conversation.ncco)

    def end_conversation(self, conversation_uuid: str) -> None:
        with self.db.session() as session:
            conversation = session.get(Conversation, conversation_uuid)
            if conversation is not None:
                conversation.status = "ended"

    def live_recording_path(self, recording_uuid: str) -> Path:
        """Where a live recording's WAV is written during the call: in the recording's own
        folder, where the render job finds it after a restart."""
        folder = self._legs_dir(recording_uuid)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / LIVE_WAV

    def live_recording_ended(
        self, recording_uuid: str, result: RecordingResult, file_format: RecordingFormat
    ) -> None:
        """A live call's WAV is closed. Store it as it is when WAV was asked for; otherwise
        note how the call ended and queue the render job, which encodes it into
        `file_format` and then stores it and sends `record`. Once this commits, a process
        that dies loses nothing: the job is in the queue and the sweeper re-queues it."""
        start = datetime.fromtimestamp(result.start_time, UTC)
        end = datetime.fromtimestamp(result.end_time, UTC)
        if file_format == result.format:
            self.recording_ready(recording_uuid, result, start, end)
            shutil.rmtree(self._legs_dir(recording_uuid), ignore_errors=True)
            return
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is not None:
                recording.status = "queued"
                recording.channels = result.channels
                recording.duration = round(result.duration, 3)
                recording.end_reason = result.end_reason
                recording.start_time = start
                recording.end_time = end
                recording.heartbeat_at = utcnow()
        if recording is None:  # deleted meanwhile
            shutil.rmtree(self._legs_dir(recording_uuid), ignore_errors=True)
            return
        self.jobs.enqueue("render", recording_uuid)

    def start_live_recording(
        self, application_id: str, conversation_uuid: str, record: RecordAction
    ) -> str:
        """A recording row for a live call, status `recording` until its file is written."""
        with self.db.session() as session:
            recording = Recording(
                application_id=application_id,
                conversation_uuid=conversation_uuid,
                status="recording",
                record_options=record.model_dump(by_alias=True, exclude_none=True),
                transcription_options=_transcription_options(record),
                expires_at=self._expiry(),
            )
            session.add(recording)
            session.flush()
            return recording.uuid

    # -- uploads ---------------------------------------------------------------------------

    def accept_leg_upload(
        self,
        application_id: str,
        record: RecordAction,
        legs: list[Path],
        offsets: list[float],
    ) -> Recording:
        """Per-leg files to render into a recording (POST /v1/recordings), on the queue."""
        for index, leg in enumerate(legs):
            with _named(leg, f"leg[{index}]"):
                stream_audio(leg)  # refuse a bad leg now, before anything is stored
        now = utcnow()
        with self.db.session() as session:
            recording = Recording(
                application_id=application_id,
                conversation_uuid=new_id(),
                status="queued",
                record_options=record.model_dump(by_alias=True, exclude_none=True),
                transcription_options=_transcription_options(record),
                heartbeat_at=now,
                expires_at=self._expiry(),
            )
            session.add(recording)
            session.flush()
            folder = self._legs_dir(recording.uuid)
            folder.mkdir(parents=True)
            manifest = []
            for index, (leg, offset) in enumerate(zip(legs, offsets, strict=True)):
                name = f"leg{index}{leg.suffix}"
                os.replace(leg, folder / name)
                manifest.append({"file": name, "offset": offset})
            (folder / "legs.json").write_text(json.dumps(manifest))
        self.jobs.enqueue("render", recording.uuid)
        return recording

    def _legs_dir(self, recording_uuid: str) -> Path:
        return self.files.root / "legs" / recording_uuid

    def run_render(self, recording_uuid: str) -> None:
        """Queue task: render uploaded legs into the recording, or encode a live call's WAV
        into the format its record action asked for; then store it and send `record`."""
        if not self._claim(recording_uuid, Recording.status, "queued", "rendering"):
            return
        folder = self._legs_dir(recording_uuid)
        try:
            with self._heartbeat(recording_uuid):
                with self.db.session() as session:
                    recording = session.get(Recording, recording_uuid)
                    assert recording is not None
                    record = RecordAction.model_validate(recording.record_options)
                    created = recording.created_at
                    start, end = recording.start_time, recording.end_time
                    reason = recording.end_reason
                path = self.files.tmp_path(f".{record.file_format}")
                if (folder / "legs.json").exists():
                    manifest = json.loads((folder / "legs.json").read_text())
                    legs = [LegFile(folder / leg["file"], float(leg["offset"])) for leg in manifest]
                    result = render_files(record, legs, path)
                    start = created + timedelta(seconds=result.start_time)
                    end = start + timedelta(seconds=result.duration)
                elif (folder / LIVE_WAV).exists() and start and end and reason:
                    wav = folder / LIVE_WAV
                    result = _encoded(wav, path, record.file_format, (start, end, reason))
                else:
                    raise InvalidRequestError("the recording's audio is missing", field="legs")
        except TranscribeError as exc:
            self._render_failed(recording_uuid, exc.message)
            return
        except Exception as exc:
            log.exception("rendering %s failed", recording_uuid)
            self._render_failed(recording_uuid, f"internal error: {type(exc).__name__}")
            return
        self.recording_ready(recording_uuid, result, start, end)
        shutil.rmtree(folder, ignore_errors=True)
        self.metrics.jobs.labels("render", "done").inc()

    def _render_failed(self, recording_uuid: str, error: str) -> None:
        self.metrics.jobs.labels("render", "failed").inc()
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is not None:
                recording.status = "failed"
                recording.error = error
        shutil.rmtree(self._legs_dir(recording_uuid), ignore_errors=True)

    def recording_ready(
        self, recording_uuid: str, result: RecordingResult, start: datetime, end: datetime
    ) -> None:
        """A recording's file is written: store it, send `record`, queue its transcription."""
        deliver: str | None = None
        transcribe = False
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is None:  # deleted meanwhile
                result.path.unlink(missing_ok=True)
                return
            application = session.get(Application, recording.application_id)
            assert application is not None
            stored = self._adopt_file(session, recording, result.path, result.format, "recording")
            recording.status = "ready"
            recording.format = result.format
            recording.channels = result.channels
            recording.duration = round(result.duration, 3)
            recording.end_reason = result.end_reason
            recording.start_time = start
            recording.end_time = end
            if recording.transcription_options is not None:
                recording.transcription_status = "queued"
                recording.heartbeat_at = utcnow()
                transcribe = True
            deliver = self._event(
                session,
                application,
                recording,
                "record",
                record_payload(recording, self.file_url(stored.uuid)),
            )
        if deliver:
            self.jobs.enqueue("deliver", deliver)
        if transcribe:
            self.jobs.enqueue("transcribe", recording_uuid)

    # -- transcription job -------------------------------------------------------------------

    def run_transcription(self, recording_uuid: str) -> None:
        """Queue task: transcribe a recording, store the document, send `transcribed`."""
        if not self._claim(recording_uuid, Recording.transcription_status, "queued", "running"):
            return
        error: str | None = None
        document_path: Path | None = None
        try:
            with self._heartbeat(recording_uuid):
                with self.db.session() as session:
                    recording = session.get(Recording, recording_uuid)
                    assert recording is not None and recording.file_uuid is not None
                    stored = session.get(StoredFile, recording.file_uuid)
                    assert stored is not None
                    source = self.files.path(stored.name)
                    language = (recording.transcription_options or {}).get("language")
                started = time.perf_counter()
                audio = load_audio(source)
                document = self.transcriber().transcribe(audio, language=language)
                document = self.analyzer().analyze(document)
                document_path = self.files.tmp_path(".json")
                document_path.write_text(document.model_dump_json())
                seconds = time.perf_counter() - started
                self.metrics.transcription_seconds.observe(seconds)
                self.metrics.audio_seconds.inc(audio.duration * audio.channels)
                log.info(
                    "transcribed %s (%.1f s x %d channels) in %.1f s",
                    recording_uuid,
                    audio.duration,
                    audio.channels,
                    seconds,
                )
        except TranscribeError as exc:
            error = exc.message
        except Exception as exc:  # a bug or a broken file: report it, do not retry forever
            log.exception("transcription of %s failed", recording_uuid)
            error = f"internal error: {type(exc).__name__}"
        self.metrics.jobs.labels("transcribe", "failed" if error else "done").inc()
        self._finish_transcription(recording_uuid, document_path, error)

    def _claim(self, recording_uuid: str, column: Any, queued: str, running: str) -> bool:
        """Move a job from `queued` to `running` unless another worker got there first."""
        attempts = (
            Recording.render_attempts
            if column is Recording.status
            else Recording.transcription_attempts
        )
        with self.db.session() as session:
            result = session.execute(
                update(Recording)
                .where(Recording.uuid == recording_uuid, column == queued)
                .values({column: running, "heartbeat_at": utcnow(), attempts: attempts + 1})
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    @contextmanager
    def _heartbeat(self, recording_uuid: str) -> Iterator[None]:
        """While the block runs, say every `heartbeat_s` that this job is alive, so the sweep
        can tell a long job from one whose worker died."""
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
        try:
            yield
        finally:
            stop.set()
            thread.join()

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
        for task, recording_uuid in self._stale_jobs():
            self.jobs.enqueue(task, recording_uuid)
        self.purge_expired()

    def _stale_jobs(self) -> list[tuple[str, str]]:
        """Jobs whose worker stopped beating (killed, crashed): (task, recording) to queue
        again. A job that has killed its worker MAX_JOB_ATTEMPTS times fails instead."""
        now = utcnow()
        stale = now - timedelta(seconds=self.settings.jobs.stale_after_s)
        lost = now - timedelta(seconds=10 * self.settings.jobs.stale_after_s)
        again: list[tuple[str, str]] = []
        give_up: list[tuple[str, str, int]] = []
        with self.db.session() as session:
            rows = session.scalars(
                select(Recording).where(
                    or_(
                        (Recording.status == "rendering") & (Recording.heartbeat_at < stale),
                        (Recording.status == "queued") & (Recording.heartbeat_at < lost),
                        (Recording.transcription_status == "running")
                        & (Recording.heartbeat_at < stale),
                        (Recording.transcription_status == "queued")
                        & (Recording.heartbeat_at < lost),
                    )
                )
            ).all()
            for recording in rows:
                recording.heartbeat_at = now
                render = recording.status in ("queued", "rendering")
                task = "render" if render else "transcribe"
                attempts = recording.render_attempts if render else recording.transcription_attempts
                if attempts >= MAX_JOB_ATTEMPTS:
                    give_up.append((task, recording.uuid, attempts))
                    continue
                log.warning("%s of %s went quiet; queued again", task, recording.uuid)
                if render:
                    recording.status = "queued"
                else:
                    recording.transcription_status = "queued"
                again.append((task, recording.uuid))
        for task, recording_uuid, attempts in give_up:
            reason = f"the worker stopped {attempts} times while working on this recording"
            if task == "render":
                self._render_failed(recording_uuid, reason)
            else:
                self._finish_transcription(recording_uuid, None, reason)
        return again

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
            self._forget_files([f.uuid for f in files])
            for f in files:
                session.delete(f)
            recording = session.get(Recording, recording_uuid)
            if recording is not None:
                session.delete(recording)
        for name in names:
            self.files.delete(name)
        shutil.rmtree(self._legs_dir(recording_uuid), ignore_errors=True)

    # -- reading -----------------------------------------------------------------------------

    def _owned(self, session: Any, model: Any, key: str, application_id: str) -> Any:
        """The row if it exists, is this application's and has not expired (the purge of an
        expired one may not have run yet; it is gone for callers all the same)."""
        canonical = parse_uuid(key)
        row = session.get(model, canonical) if canonical else None
        expires = getattr(row, "expires_at", None)  # deliveries do not expire
        if (
            row is None
            or row.application_id != application_id
            or (expires is not None and expires <= utcnow())
        ):
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
        query = select(Recording).where(
            Recording.application_id == application_id, Recording.expires_at > utcnow()
        )
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

    def cached_file(self, application_id: str, file_uuid: str) -> FileView | None:
        """A file served before, without touching the database (None: ask `file`)."""
        with self._file_cache_lock:
            view = self._file_cache.get(file_uuid)
            if view is not None:
                self._file_cache.move_to_end(file_uuid)
        if view is None:
            return None
        return self._check_file(view, application_id, file_uuid)

    def file(self, application_id: str, file_uuid: str) -> FileView:
        """A stored file of this application, from the database (and then the cache)."""
        with self.db.session() as session:
            stored = self._owned(session, StoredFile, file_uuid, application_id)
            path = self.files.path(stored.name)
            body = path.read_bytes() if stored.size <= SMALL_FILE_BYTES and path.exists() else None
            view = FileView(
                application_id=stored.application_id,
                path=path,
                content_type=stored.content_type,
                size=stored.size,
                etag=f'"{stored.sha256}"',
                name=stored.name,
                expires_at=stored.expires_at,
                body=body,
            )
        with self._file_cache_lock:
            self._file_cache[stored.uuid] = view
            while len(self._file_cache) > FILE_CACHE_ENTRIES:
                self._file_cache.popitem(last=False)
        return self._check_file(view, application_id, file_uuid)

    def _check_file(self, view: FileView, application_id: str, file_uuid: str) -> FileView:
        # Another node may have deleted it from the shared volume: the file itself decides.
        gone = view.expires_at <= utcnow() or not view.path.exists()
        if gone:
            self._forget_files([file_uuid])
        if gone or view.application_id != application_id:
            raise NotFoundError(f"no file {file_uuid!r}")
        return view

    def _forget_files(self, file_uuids: list[str]) -> None:
        with self._file_cache_lock:
            for file_uuid in file_uuids:
                self._file_cache.pop(file_uuid, None)

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
            self._forget_files([stored.uuid])
            session.delete(stored)
        self.files.delete(name)

    def queue_depth(self) -> int:
        return self.jobs.depth()


def settle_heap() -> None:
    """Take what is loaded now (the models alone are some 180,000 objects) out of the cyclic
    garbage collector's sight for good (`gc.freeze`). Otherwise every full collection walks
    all of them, a pause of over 100 ms for every thread, live legs' hand-overs included."""
    gc.collect()
    gc.freeze()


@contextmanager
def _named(path: Path, field: str) -> Iterator[None]:
    """Errors about an uploaded file name the form field, never our temporary path."""
    try:
        yield
    except TranscribeError as exc:
        raise type(exc)(exc.message.replace(str(path), field), field=field) from exc


def _encoded(
    wav: Path, path: Path, file_format: RecordingFormat, ended: tuple[datetime, datetime, str]
) -> RecordingResult:
    """A live call's WAV encoded into `file_format` at `path`, described as the engine would
    have described that file had it written it during the call; `ended` is the call's
    (start, end, end_reason) as stored when it ended."""
    start, end, reason = ended
    transcode(wav, path, file_format)
    info = sf.info(str(wav))
    return RecordingResult(
        path=path,
        format=file_format,
        channels=info.channels,
        duration=info.frames / info.samplerate,
        size=path.stat().st_size,
        end_reason=cast(EndReason, reason),
        start_time=start.timestamp(),
        end_time=end.timestamp(),
        legs=0,
    )


def _transcription_options(record: RecordAction) -> dict[str, Any] | None:
    if record.transcription is None:
        return None
    return record.transcription.model_dump(by_alias=True, exclude_none=True)


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
