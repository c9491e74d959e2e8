"""Recordings: how they come in (`Intake`), what happens when their work ends
(`Lifecycle`), their files (`RecordingFiles`) and reading them back (`RecordingQueries`)."""

from transcribe.recordings.files import FileView, RecordingFiles
from transcribe.recordings.intake import Intake
from transcribe.recordings.lifecycle import Lifecycle
from transcribe.recordings.queries import RecordingQueries

__all__ = ["FileView", "Intake", "Lifecycle", "RecordingFiles", "RecordingQueries"]
