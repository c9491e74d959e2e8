"""How recordings come in: an uploaded recording file to transcribe (`upload`), uploaded
per-leg files to render (`legs`), or a live call (`start_live`, then `live_ended`, or
`live_lost` when its process died during the call).

Bad input is refused before anything is stored; once a method returns, the recording is in
the database and its next job in the queue, so a crash loses nothing.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import soundfile as sf
from sqlalchemy import update
from sqlalchemy.orm import Session

from transcribe.audio import open_audio
from transcribe.clock import Clock
from transcribe.errors import TranscribeError
from transcribe.limits import MAX_RECORD_SECONDS
from transcribe.ncco import RecordAction, RecordingFormat, TranscriptionOptions
from transcribe.recording.engine import RecordingResult
from transcribe.recordings.files import RecordingFiles
from transcribe.recordings.lifecycle import Enqueue, Lifecycle, describe_call
from transcribe.store.db import Database
from transcribe.store.models import Recording, new_id
from transcribe.store.states import FileKind, JobTask, RecordingStatus, TranscriptionStatus

log = logging.getLogger(__name__)

LIVE_WAV = "live.wav"  # a live call's recording while it goes on, in its legs folder
LEGS_MANIFEST = "legs.json"  # uploaded legs' files and offsets, in the same folder

CheckLanguage = Callable[[str | None], None]


@dataclass
class Intake:
    db: Database
    files: RecordingFiles
    lifecycle: Lifecycle
    enqueue: Enqueue
    check_language: CheckLanguage
    clock: Clock
    retention: timedelta
    max_audio_seconds: float = MAX_RECORD_SECONDS

    def upload(self, application_id: str, upload: Path, options: TranscriptionOptions) -> Recording:
        """An existing recording file to transcribe (POST /v1/transcriptions).

        The file is refused now if it is over the limits or damaged where a cheap look shows
        it, from its header and ends; it is never decoded whole here (the job decodes it, a few
        channels at a time)."""
        with named(upload, "file"):
            audio = open_audio(upload, self.max_audio_seconds)
            audio.check_intact()
        self.check_language(options.language)
        ext = _extension(audio.source_format)
        now = self.clock.now()
        duration = round(audio.duration, 3)
        with self.db.session() as session:
            recording = Recording(
                application_id=application_id,
                conversation_uuid=new_id(),
                status=RecordingStatus.READY,
                format=ext,
                channels=audio.channels,
                duration=duration,
                end_reason="upload",
                # An upload's clock starts when it arrives and runs for as long as its audio.
                start_time=now,
                end_time=now + timedelta(seconds=duration),
                transcription_status=TranscriptionStatus.QUEUED,
                transcription_options=options.model_dump(by_alias=True, exclude_none=True),
                heartbeat_at=now,
                created_at=now,
                expires_at=now + self.retention,
            )
            session.add(recording)
            session.flush()
            self.files.adopt(session, recording, upload, ext, FileKind.RECORDING)
        self.enqueue(JobTask.TRANSCRIBE, recording.uuid)
        return recording

    def legs(
        self, application_id: str, record: RecordAction, legs: list[Path], offsets: list[float]
    ) -> Recording:
        """Per-leg files to render into a recording (POST /v1/recordings), on the queue."""
        for index, leg in enumerate(legs):
            with named(leg, f"leg[{index}]"):  # refuse a bad leg now, before anything is stored
                open_audio(leg, self.max_audio_seconds).check_intact()
        with self.db.session() as session:
            recording = self._new(session, application_id, new_id(), record)
            recording.status = RecordingStatus.QUEUED
            recording.heartbeat_at = recording.created_at
            session.flush()
            folder = self.files.legs_dir(recording.uuid)
            folder.mkdir(parents=True)
            manifest = []
            for index, (leg, offset) in enumerate(zip(legs, offsets, strict=True)):
                name = f"leg{index}{leg.suffix}"
                os.replace(leg, folder / name)
                manifest.append({"file": name, "offset": offset})
            (folder / LEGS_MANIFEST).write_text(json.dumps(manifest))
        self.enqueue(JobTask.RENDER, recording.uuid)
        return recording

    def start_live(
        self, application_id: str, conversation_uuid: str, record: RecordAction, started: float
    ) -> str:
        """A recording row for a live call that started at `started` (a `time.time()`), status
        `recording` until its file is written, its process beating for it (`live_beat`)."""
        with self.db.session() as session:
            recording = self._new(session, application_id, conversation_uuid, record)
            recording.start_time = datetime.fromtimestamp(started, UTC)
            recording.heartbeat_at = recording.created_at
            session.flush()
            return recording.uuid

    def live_beat(self, recording_uuids: list[str]) -> None:
        """These live recordings' process is alive (see `Sweeper`, which renders the rest)."""
        if not recording_uuids:
            return
        with self.db.session() as session:
            session.execute(
                update(Recording)
                .where(
                    Recording.uuid.in_(recording_uuids),
                    Recording.status == RecordingStatus.RECORDING,
                )
                .values(heartbeat_at=self.clock.now())
            )

    def live_lost(self, recording_uuid: str) -> None:
        """A live call whose process died mid-call (killed, crashed, its node gone): the call
        ended there, by a restart, with what reached disk, which the render job now encodes,
        stores and sends `record` for. The WAV's header was never finished, but its audio
        runs to the end of the file, and libsndfile reads it so."""
        wav = self.files.legs_dir(recording_uuid) / LIVE_WAV
        try:
            info = sf.info(str(wav))
            channels, duration = info.channels, info.frames / info.samplerate
        except (sf.LibsndfileError, RuntimeError):  # nothing reached disk: the render fails
            channels, duration = None, 0.0
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is None:
                return
            start = recording.start_time or recording.created_at
            taken = session.execute(
                update(Recording)
                .where(
                    Recording.uuid == recording_uuid,
                    Recording.status == RecordingStatus.RECORDING,
                )
                .values(
                    status=RecordingStatus.QUEUED,
                    channels=channels,
                    duration=round(duration, 3),
                    end_reason="restart",
                    start_time=start,
                    end_time=start + timedelta(seconds=duration),
                    heartbeat_at=self.clock.now(),
                )
            )
            if not taken.rowcount:  # type: ignore[attr-defined]
                return  # another sweeper took it
        log.warning("live recording %s lost its process mid-call; rendering it", recording_uuid)
        self.enqueue(JobTask.RENDER, recording_uuid)

    def live_path(self, recording_uuid: str) -> Path:
        """Where a live recording's WAV is written during the call: in the recording's own
        folder, where the render job finds it after a restart."""
        folder = self.files.legs_dir(recording_uuid)
        folder.mkdir(parents=True, exist_ok=True)
        return folder / LIVE_WAV

    def live_ended(
        self, recording_uuid: str, result: RecordingResult, file_format: RecordingFormat
    ) -> None:
        """A live call's WAV is closed. Store it as it is when WAV was asked for; otherwise
        note how the call ended and queue the render job, which encodes it into
        `file_format` and then stores it and sends `record`. Once this commits, a process
        that dies loses nothing: the job is in the queue and the sweeper re-queues it."""
        start = datetime.fromtimestamp(result.start_time, UTC)
        end = datetime.fromtimestamp(result.end_time, UTC)
        if file_format == result.format:
            self.lifecycle.ready(recording_uuid, result, start, end)
            self.files.drop_legs(recording_uuid)
            return
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            if recording is not None:
                recording.status = RecordingStatus.QUEUED
                describe_call(recording, result, start, end)
                recording.heartbeat_at = self.clock.now()
        if recording is None:  # deleted meanwhile
            self.files.drop_legs(recording_uuid)
            return
        self.enqueue(JobTask.RENDER, recording_uuid)

    def _new(
        self, session: Session, application_id: str, conversation_uuid: str, record: RecordAction
    ) -> Recording:
        now = self.clock.now()
        transcription = record.transcription
        recording = Recording(
            application_id=application_id,
            conversation_uuid=conversation_uuid,
            status=RecordingStatus.RECORDING,
            record_options=record.model_dump(by_alias=True, exclude_none=True),
            transcription_options=None
            if transcription is None
            else transcription.model_dump(by_alias=True, exclude_none=True),
            created_at=now,
            expires_at=now + self.retention,
        )
        session.add(recording)
        return recording


@contextmanager
def named(path: Path, field: str) -> Iterator[None]:
    """Errors about an uploaded file name the form field, never our temporary path."""
    try:
        yield
    except TranscribeError as exc:
        raise type(exc)(exc.message.replace(str(path), field), field=field) from exc


def _extension(source_format: str) -> str:
    return {"WAV": "wav", "WAVEX": "wav", "RF64": "wav", "FLAC": "flac", "MP3": "mp3"}.get(
        source_format, "ogg"
    )
