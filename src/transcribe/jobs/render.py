"""The render job: uploaded legs into a recording, or a live call's WAV into the format its
record action asked for; then the file is stored and `record` sent (`Lifecycle.ready`)."""

from __future__ import annotations

import json
import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import cast

import soundfile as sf

from transcribe.errors import InvalidRequestError
from transcribe.jobs.leases import Leases
from transcribe.metrics import Metrics
from transcribe.ncco import RecordAction, RecordingFormat
from transcribe.recording.encoders import transcode
from transcribe.recording.engine import EndReason, RecordingResult
from transcribe.recording.render import LegFile, render_files
from transcribe.recordings.files import RecordingFiles
from transcribe.recordings.intake import LEGS_MANIFEST, LIVE_WAV, named
from transcribe.recordings.lifecycle import Lifecycle
from transcribe.store.db import Database
from transcribe.store.models import Recording
from transcribe.store.states import JobTask

log = logging.getLogger(__name__)


@dataclass
class RenderJob:
    db: Database
    files: RecordingFiles
    leases: Leases
    lifecycle: Lifecycle
    metrics: Metrics

    def __call__(self, recording_uuid: str) -> None:
        ran = self.leases.run(JobTask.RENDER, recording_uuid, lambda: self._render(recording_uuid))
        if ran is None:
            return
        rendered, error = ran
        if rendered is None:
            self.lifecycle.render_failed(recording_uuid, error or "the render failed")
            return
        result, start, end = rendered
        self.lifecycle.ready(recording_uuid, result, start, end)
        self.files.drop_legs(recording_uuid)
        self.metrics.jobs.labels(JobTask.RENDER, "done").inc()

    def _render(self, recording_uuid: str) -> tuple[RecordingResult, datetime, datetime]:
        """The recording's file, with the call's start and end."""
        with self.db.session() as session:
            recording = session.get(Recording, recording_uuid)
            assert recording is not None
            record = RecordAction.model_validate(recording.record_options)
            created = recording.created_at
            start, end = recording.start_time, recording.end_time
            reason = recording.end_reason
        folder = self.files.legs_dir(recording_uuid)
        path = self.files.tmp_path(f".{record.file_format}")
        # Errors name the files as the caller knows them, never by their path here.
        with ExitStack() as names:
            names.enter_context(named(path, "the recording file"))
            if (folder / LEGS_MANIFEST).exists():
                manifest = json.loads((folder / LEGS_MANIFEST).read_text())
                legs = [LegFile(folder / leg["file"], float(leg["offset"])) for leg in manifest]
                for index, leg in enumerate(legs):
                    names.enter_context(named(leg.path, f"leg[{index}]"))
                result = render_files(record, legs, path)
                start = created + timedelta(seconds=result.start_time)
                return result, start, start + timedelta(seconds=result.duration)
            if (folder / LIVE_WAV).exists() and start and end and reason:
                wav = folder / LIVE_WAV
                names.enter_context(named(wav, "the call's audio"))
                return _encoded(wav, path, record.file_format, (start, end, reason)), start, end
        raise InvalidRequestError("the recording's audio is missing", field="legs")


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
