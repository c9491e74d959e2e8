"""The transcription job: a stored recording, every channel through Whisper and spaCy, into
the transcription document; then `Lifecycle.transcription_finished` stores it and sends
`transcribed`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from transcribe.audio import open_audio
from transcribe.engines import Engines
from transcribe.jobs.leases import Leases
from transcribe.metrics import Metrics
from transcribe.recordings.files import RecordingFiles
from transcribe.recordings.lifecycle import Lifecycle
from transcribe.store.db import Database
from transcribe.store.models import Recording, StoredFile
from transcribe.store.states import JobTask

log = logging.getLogger(__name__)


@dataclass
class TranscribeJob:
    db: Database
    files: RecordingFiles
    leases: Leases
    lifecycle: Lifecycle
    engines: Engines
    metrics: Metrics
    max_audio_seconds: float

    def __call__(self, recording_uuid: str) -> None:
        ran = self.leases.run(
            JobTask.TRANSCRIBE, recording_uuid, lambda: self._transcribe(recording_uuid)
        )
        if ran is None:
            return
        document, error = ran
        self.metrics.jobs.labels(JobTask.TRANSCRIBE, "failed" if error else "done").inc()
        self.lifecycle.transcription_finished(recording_uuid, document, error)

    def _transcribe(self, recording_uuid: str) -> Path:
        """The document of the recording, written to a temporary file."""
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            assert recording is not None and recording.file_uuid is not None
            stored = session.get(StoredFile, recording.file_uuid)
            assert stored is not None
            source = self.files.store.path(stored.name)
            options = recording.transcription_options or {}
            language = options.get("language")
            sentiment = bool(options.get("sentimentAnalysis", False))
        started = time.perf_counter()
        # Decoded a few channels at a time by the transcriber, never whole: see audio.py.
        audio = open_audio(source, self.max_audio_seconds, name="the recording")
        transcriber = self.engines.transcriber_for(language)  # English, or multilingual
        document = transcriber.transcribe(audio, language=language)
        document = self.engines.annotate(document, language, analytics=True, sentiment=sentiment)
        path = self.files.tmp_path(".json")
        path.write_text(document.model_dump_json())
        seconds = time.perf_counter() - started
        self.metrics.transcription_seconds.observe(seconds)
        self.metrics.audio_seconds.inc(sum(channel.duration for channel in document.channels))
        log.info(
            "transcribed %s (%.1f s x %d channels) in %.1f s%s",
            recording_uuid,
            audio.duration,
            audio.channels,
            seconds,
            "".join(f"; {w.message}" for w in document.warnings),
        )
        return path
