"""The Python client: `Client` for the API, `Transcript` for analysis, `verify_event`.

    from transcribe.client import Client
    with Client("http://127.0.0.1:8000", app_id, "private.pem") as client:
        accepted = client.upload_recording("call.wav")
        client.wait(accepted.recording_uuid)
        transcript = client.transcript(accepted.recording_uuid)
        transcript.words()       # a pandas DataFrame (pip install 'transcribe[notebook]')
        print(transcript.to_srt())

`transcribe.client.analysis` has call statistics (talk time, overlaps, silences) on top.
"""

from transcribe.client.http import ApiError, Client, RecordingFailed
from transcribe.client.transcript import Transcript
from transcribe.client.webhooks import verify_event
from transcribe.errors import AuthError
from transcribe.views import Accepted, RecordingView, TranscriptionView

__all__ = [
    "Accepted",
    "ApiError",
    "AuthError",
    "Client",
    "RecordingFailed",
    "RecordingView",
    "Transcript",
    "TranscriptionView",
    "verify_event",
]
