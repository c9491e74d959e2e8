"""Uploads as a newcomer sends them, to an API node (no model: the fast lane): a recording
sent the wrong way is told the right way; an uploaded recording's times span its audio."""

from __future__ import annotations

from datetime import datetime

import pytest
import soundfile as sf

from live import KeyPair, LiveApi, token_for
from speech import SPEECH_DIR

API_SETTINGS = {"embedded_worker": False}

CLIP = SPEECH_DIR / "jfk.wav"


@pytest.fixture(scope="module")
def token(api: LiveApi, keys: KeyPair) -> str:
    return token_for(api.register(keys)["id"], keys, ttl_s=3600)


@pytest.mark.parametrize(
    "content_type,says",
    [("audio/wav", "not audio/wav"), (None, "and this body has no Content-Type")],
)
def test_a_raw_body_upload_is_told_to_send_a_form(
    api: LiveApi, token: str, content_type: str | None, says: str
) -> None:
    """`curl --data-binary @call.wav` instead of `curl -F file=@call.wav`."""
    headers = {"Content-Type": content_type} if content_type else {}
    with api.client(token) as client:
        refused = client.post("/v1/transcriptions", content=CLIP.read_bytes(), headers=headers)
    assert refused.status_code == 415
    problem = refused.json()
    assert problem["detail"].startswith(
        f"POST /v1/transcriptions takes multipart/form-data, {says}: send the recording as the "
        "form field `file` (curl -F file=@call.wav)"
    )
    assert problem["invalid_parameters"] == [{"name": "Content-Type", "reason": problem["detail"]}]


def test_raw_legs_are_told_the_form_too(api: LiveApi, token: str) -> None:
    with api.client(token) as client:
        refused = client.post(
            "/v1/recordings", content=CLIP.read_bytes(), headers={"Content-Type": "audio/wav"}
        )
    assert refused.status_code == 415
    detail = refused.json()["detail"]
    assert "multipart/form-data" in detail and "`record`" in detail and "`leg`" in detail


def test_a_form_without_its_file_still_names_the_field(api: LiveApi, token: str) -> None:
    with api.client(token) as client:
        refused = client.post("/v1/transcriptions", files={"recording": CLIP.open("rb")})
    assert refused.status_code == 422
    assert refused.json()["invalid_parameters"][0]["name"] == "file"


def test_an_uploaded_recording_ends_its_duration_after_it_starts(api: LiveApi, token: str) -> None:
    with api.client(token) as client:
        accepted = client.post("/v1/transcriptions", files={"file": CLIP.open("rb")})
        assert accepted.status_code == 202, accepted.text
        view = client.get(f"/v1/recordings/{accepted.json()['recording_uuid']}").json()
    seconds = sf.info(str(CLIP)).duration
    assert view["duration"] == pytest.approx(seconds, abs=0.001)
    start = datetime.fromisoformat(view["start_time"])
    end = datetime.fromisoformat(view["end_time"])
    assert (end - start).total_seconds() == pytest.approx(seconds, abs=0.002)
