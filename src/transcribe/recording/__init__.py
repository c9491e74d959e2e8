"""The recording engine: Vonage's `record` action on call legs, written as mono, split or
multichannel WAV, MP3 or OGG. No HTTP in here; the service puts sockets and uploads in front.
"""

from transcribe.recording.engine import EndReason, Leg, Recorder, RecordingResult, Voice
from transcribe.recording.layout import beep_tone
from transcribe.recording.render import LegFile, LegSource, render, render_files

__all__ = [
    "EndReason",
    "Leg",
    "LegFile",
    "LegSource",
    "Recorder",
    "RecordingResult",
    "Voice",
    "beep_tone",
    "render",
    "render_files",
]
