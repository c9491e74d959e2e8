"""Work that fails still tells the caller: a render that fails sends `record` with
`status: "failed"`, a transcription that fails sends `transcribed` so, and neither error
names a path on the server.

An API node with no workers takes the uploads; a worker in this process (as
`transcribe worker` runs one) does the work, once the test has set it up to fail."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import soundfile as sf

from transcribe.service import Service

from live import KeyPair, LiveApi, Receiver, token_for
from speech import Clip

API_SETTINGS = {"embedded_worker": False}  # no model: neither job gets as far as Whisper


@contextmanager
def worker(api: LiveApi) -> Iterator[None]:
    service = Service(api.settings)
    service.start_workers()
    try:
        yield
    finally:
        service.close()


def wav(clip: Clip) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, clip.samples, 16000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_a_render_that_fails_sends_record_failed_naming_the_leg_not_a_path(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    """A leg that passed the upload's checks is cut off on disk before the render reads
    it through."""
    token = token_for(api.register(keys)["id"], keys)
    whole = wav(clips["cards_001.wav"])
    record = f'{{"action": "record", "format": "wav", "eventUrl": ["{receiver.url}"]}}'
    with api.client(token) as client:
        response = client.post(
            "/v1/recordings", data={"record": record}, files={"leg": ("leg.wav", whole)}
        )
        assert response.status_code == 202, response.text
        legs = api.settings.files_dir / "legs" / response.json()["recording_uuid"]
        (leg,) = legs.glob("leg0*")
        leg.write_bytes(whole[: len(whole) // 2])
        with worker(api):
            (event,) = receiver.wait_for(1, timeout=60)
        view = client.get(f"/v1/recordings/{response.json()['recording_uuid']}").json()
    payload = event.json()
    assert payload["status"] == "failed" and payload["recording_uuid"] == view["recording_uuid"]
    assert payload["conversation_uuid"] == response.json()["conversation_uuid"]
    error = payload["error"]
    assert "leg[0]" in error and "truncated" in error, error
    assert "/" not in error, error  # no path of the server's
    assert view["status"] == "failed" and view["error"] == error


def test_a_transcription_that_fails_sends_transcribed_failed_naming_no_path(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    """The stored recording is damaged on disk before a worker gets to it."""
    token = token_for(api.register(keys)["id"], keys)
    with api.client(token) as client:
        response = client.post(
            "/v1/transcriptions",
            files={"file": ("call.wav", wav(clips["cards_001.wav"]))},
            data={"eventUrl": receiver.url},
        )
        assert response.status_code == 202, response.text
        view = client.get(f"/v1/recordings/{response.json()['recording_uuid']}").json()
        file_uuid = view["recording_url"].rsplit("/", 1)[-1]
        (api.settings.files_dir / f"{file_uuid}.wav").write_bytes(b"not audio any more" * 100)
        with worker(api):
            (event,) = receiver.wait_for(1, timeout=60)
    payload = event.json()
    assert payload["status"] == "failed", payload
    assert "the recording" in payload["error"] and "/" not in payload["error"], payload
