"""POST /v1/transcriptions end to end over real HTTP: upload, webhook, signed fetches, deletion."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from transcribe.audio import load_audio
from transcribe.auth import verify_webhook
from transcribe.document import TranscriptionDocument

from bombs import cut, damaged, flac_bomb, ogg_bomb
from live import (
    KeyPair,
    LiveApi,
    Receiver,
    new_keypair,
    token_for,
)
from signals import place, seconds
from speech import SPEECH_DIR, Clip


def stereo_call(clips: dict[str, Clip]) -> bytes:
    left = place(seconds(14), [(0.5, clips["jfk.wav"].samples)])
    right = place(seconds(14), [(12.0 - 1.5, clips["goforward.wav"].samples)])
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([left, right], axis=1), 16000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_upload_transcribe_webhook_and_fetch(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    with api.client(token) as client:
        response = client.post(
            "/v1/transcriptions",
            files={"file": ("call.wav", stereo_call(clips), "audio/wav")},
            data={"language": "en-US", "eventUrl": receiver.url},
        )
        assert response.status_code == 202, response.text
        recording_uuid = response.json()["recording_uuid"]

        (event,) = receiver.wait_for(1)
        assert event.method == "POST"
        claims = verify_webhook(
            event.headers["authorization"].removeprefix("Bearer "),
            app["signature_secret"],
            event.body,
        )
        assert claims["application_id"] == app["id"]
        payload = event.json()
        assert payload["status"] == "transcribed" and payload["type"] == "record"
        assert payload["recording_uuid"] == recording_uuid

        document = client.get(payload["transcription_url"])
        assert document.status_code == 200
        assert document.headers["content-type"] == "application/json"
        assert "qa_pairs" in document.json()  # the analytics step ran before the webhook
        doc = TranscriptionDocument.model_validate_json(document.content)
        left = " ".join(s.raw_sentence for s in doc.channels[0].transcript)
        right = " ".join(s.raw_sentence for s in doc.channels[1].transcript)
        assert "ask not what your country can do for you" in left and "forward" not in left
        assert "go forward" in right and "country" not in right

        view = client.get(f"/v1/recordings/{recording_uuid}").json()
        assert view["transcription"]["status"] == "done"
        assert view["transcription"]["transcription_url"] == payload["transcription_url"]
        assert view["channels"] == 2 and view["format"] == "wav"
        assert view["expires_at"] > view["created_at"]

        # The audio itself, with Range and ETag.
        audio_url = view["recording_url"]
        whole = client.get(audio_url)
        assert whole.status_code == 200 and whole.headers["content-type"] == "audio/wav"
        part = client.get(audio_url, headers={"Range": "bytes=0-43"})
        assert part.status_code == 206 and part.content == whole.content[:44]
        etag = whole.headers["etag"]
        assert client.get(audio_url, headers={"If-None-Match": etag}).status_code == 304

        # Another application sees none of it.
        other_keys = new_keypair()
        other = api.register(other_keys)
        with api.client(token_for(other["id"], other_keys)) as stranger:
            assert stranger.get(f"/v1/recordings/{recording_uuid}").status_code == 404
            assert stranger.get(audio_url).status_code == 404
            assert stranger.get(payload["transcription_url"]).status_code == 404

        # Deleting erases the recording, the transcript and both files.
        assert client.delete(f"/v1/recordings/{recording_uuid}").status_code == 204
        for url in (f"/v1/recordings/{recording_uuid}", audio_url, payload["transcription_url"]):
            gone = client.get(url)
            assert gone.status_code == 404 and gone.json()["title"] == "Not found"


def test_repeated_fetches_answer_exactly_as_the_first(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    """A file fetched before, with a token seen before, is answered from memory in front of
    the router: the answer, the auth rules, ETag and Range must be the route's own."""
    app = api.register(keys)
    token = token_for(app["id"], keys)
    with api.client(token) as client:
        buffer = io.BytesIO()
        sf.write(buffer, clips["cards_001.wav"].samples, 16000, format="WAV")
        accepted = client.post(
            "/v1/transcriptions", files={"file": ("c.wav", buffer.getvalue(), "audio/wav")}
        ).json()
        deadline = time.monotonic() + 60
        while (view := client.get(f"/v1/recordings/{accepted['recording_uuid']}").json())[
            "transcription"
        ]["status"] != "done":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        url = view["transcription"]["transcription_url"]

        answers = [client.get(url) for _ in range(3)]  # the route, then from memory
        for answer in answers:
            assert answer.status_code == 200 and answer.content == answers[0].content
            for name in ("content-type", "content-length", "etag", "cache-control"):
                assert answer.headers[name] == answers[0].headers[name], name
            assert answer.headers["accept-ranges"] == "bytes"
        assert answers[0].headers["content-type"] == "application/json"
        assert len({answer.headers["x-request-id"] for answer in answers}) == 3
        assert client.get(url, headers={"X-Request-ID": "mine"}).headers["x-request-id"] == "mine"
        etag = answers[0].headers["etag"]
        for _ in range(2):
            unchanged = client.get(url, headers={"If-None-Match": etag})
            assert unchanged.status_code == 304 and unchanged.content == b""
            assert unchanged.headers["etag"] == etag
            part = client.get(url, headers={"Range": "bytes=2-9"})
            assert part.status_code == 206 and part.content == answers[0].content[2:10]

        for bad in ("not-a-jwt", ""):
            with api.client(bad or None) as anonymous:
                refused = anonymous.get(url)
                assert refused.status_code == 401 and refused.json()["title"] == "Unauthorized"
        other_keys = new_keypair()
        with api.client(token_for(api.register(other_keys)["id"], other_keys)) as stranger:
            assert [stranger.get(url).status_code for _ in range(2)] == [404, 404]

        assert client.delete(url).status_code == 204
        assert [client.get(url).status_code for _ in range(2)] == [404, 404]


def test_recordings_list_pages_with_a_cursor(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        buffer = io.BytesIO()
        sf.write(buffer, clips["cards_001.wav"].samples, 16000, format="WAV")
        made = [
            client.post(
                "/v1/transcriptions", files={"file": ("c.wav", buffer.getvalue(), "audio/wav")}
            ).json()["recording_uuid"]
            for _ in range(5)
        ]
        seen, cursor = [], None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = client.get("/v1/recordings", params=params).json()
            seen += [item["recording_uuid"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(made) and len(seen) == 5
        assert client.get("/v1/recordings", params={"cursor": "garbage"}).status_code == 422


@pytest.mark.parametrize(
    "name,content,status,words",
    [
        ("empty.wav", b"", 422, "empty"),
        ("notes.wav", b"hello, this is text" * 100, 415, "not a WAV"),
        ("cut.wav", None, 422, "truncated"),
        ("cut.ogg", None, 422, "truncated: the OGG stream stops without its last page"),
        ("wide.wav", None, 422, "33 channels; at most 32 are supported"),
    ],
)
def test_bad_uploads_are_clear_4xx(
    api: LiveApi,
    keys: KeyPair,
    tmp_path: Path,
    name: str,
    content: bytes | None,
    status: int,
    words: str,
) -> None:
    if name == "cut.wav":
        whole = (Path(__file__).resolve().parents[2] / "shared/data/speech/jfk.wav").read_bytes()
        content = whole[: len(whole) // 2]
    elif name == "cut.ogg":
        ogg = tmp_path / "whole.ogg"
        sf.write(ogg, load_audio(SPEECH_DIR / "jfk.flac").samples.T, 16000, subtype="VORBIS")
        content = cut(ogg, tmp_path / name).read_bytes()
    elif name == "wide.wav":
        buffer = io.BytesIO()
        sf.write(buffer, np.zeros((1600, 33), np.float32), 16000, format="WAV")
        content = buffer.getvalue()
    assert content is not None
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post("/v1/transcriptions", files={"file": (name, content, "audio/wav")})
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) >= {"type", "title", "detail"} and words in body["detail"]
        assert body["detail"].startswith("file: ")  # the form field, not a server path
        assert client.get("/v1/recordings").json()["items"] == []  # nothing half-stored


def test_missing_file_field_and_wrong_language(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        missing = client.post("/v1/transcriptions", data={"language": "en"})
        assert missing.status_code == 422
        assert missing.json()["invalid_parameters"][0]["name"] == "file"
        buffer = io.BytesIO()
        sf.write(buffer, clips["cards_001.wav"].samples, 16000, format="WAV")
        unknown = client.post(
            "/v1/transcriptions",
            files={"file": ("c.wav", buffer.getvalue(), "audio/wav")},
            data={"language": "tlh-QO"},  # Klingon: no model here speaks it
        )
        assert unknown.status_code == 422 and "'tlh-QO'" in unknown.json()["detail"]
        assert unknown.json()["invalid_parameters"][0]["name"] == "language"


@pytest.mark.parametrize(
    "path", ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "%00", "x" * 300, "not-a-uuid"]
)
def test_path_tricks_in_file_ids_are_404(api: LiveApi, keys: KeyPair, path: str) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.get(f"/v1/files/{path}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/json"


def test_operations_endpoints(api: LiveApi) -> None:
    with api.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").json()["status"] == "ready"
        metrics = client.get("/metrics").text
        assert "transcribe_queue_depth" in metrics and "transcribe_jobs_total" in metrics
        assert "X-Request-ID".lower() in {k.lower() for k in client.get("/healthz").headers}
        assert client.get("/openapi.json").json()["info"]["title"] == "transcribe"


def test_upload_options_follow_the_ncco_rules(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    """The form's options go through the same model as an NCCO's record.transcription: a
    URL that is not http(s) is refused naming the field, and no language means en-US in the
    recording's view and in the document alike."""
    app = api.register(keys)
    buffer = io.BytesIO()
    sf.write(buffer, clips["cards_001.wav"].samples, 16000, format="WAV")
    upload = {"file": ("c.wav", buffer.getvalue(), "audio/wav")}
    with api.client(token_for(app["id"], keys)) as client:
        for url in ("ftp://example.com/hook", "not a url", "file:///etc/passwd"):
            refused = client.post("/v1/transcriptions", files=upload, data={"eventUrl": url})
            assert refused.status_code == 422, refused.text
            assert [p["name"] for p in refused.json()["invalid_parameters"]] == ["eventUrl"]
        assert client.get("/v1/recordings").json()["items"] == []  # nothing half-stored

        accepted = client.post("/v1/transcriptions", files=upload, data={"eventUrl": receiver.url})
        assert accepted.status_code == 202, accepted.text
        (event,) = receiver.wait_for(1)
        view = client.get(f"/v1/recordings/{accepted.json()['recording_uuid']}").json()
        document = client.get(event.json()["transcription_url"]).json()
        assert view["transcription"]["language"] == document["language"] == "en-US"


def _transcribe(
    api: LiveApi, keys: KeyPair, receiver: Receiver, path: Path
) -> tuple[int, dict[str, Any]]:
    """Upload `path`; (status, problem) when refused, else (202, the transcription document)."""
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/transcriptions",
            files={"file": (path.name, path.read_bytes(), "application/octet-stream")},
            data={"eventUrl": receiver.url},
        )
        if response.status_code != 202:
            assert client.get("/v1/recordings").json()["items"] == []  # nothing half-stored
            return response.status_code, response.json()
        (event,) = receiver.wait_for(1, timeout=600)
        assert event.json()["status"] == "transcribed", event.json()
        document: dict[str, Any] = client.get(event.json()["transcription_url"]).json()
        return 202, document


def test_an_upload_over_the_duration_limit_is_refused_before_decoding(
    api: LiveApi, keys: KeyPair, receiver: Receiver, tmp_path: Path
) -> None:
    """The issue's 394 kB FLAC of 2 h 10 min (2.5 GB when it was decoded whole to check it)."""
    status, problem = _transcribe(api, keys, receiver, flac_bomb(tmp_path))
    assert status == 413
    assert problem["detail"] == (
        "file: the audio is 7800 s; the limit is max_audio_seconds = 7200 s"
    )
    assert problem["invalid_parameters"] == [{"name": "file", "reason": problem["detail"]}]


def test_a_wide_upload_within_the_limits_is_transcribed_channel_by_channel(
    api: LiveApi, keys: KeyPair, receiver: Receiver, tmp_path: Path
) -> None:
    """The issue's 117 kB OGG of 32 channels x 10 min (4.4 GB at its peak, decoded whole):
    within the limits, so transcribed; every channel there, in order, silent, 600 s long."""
    status, document = _transcribe(api, keys, receiver, ogg_bomb(tmp_path))
    assert status == 202
    assert len(document["channels"]) == 32 and document["warnings"] == []
    for channel in document["channels"]:
        assert channel["transcript"] == [] and channel["duration"] == pytest.approx(600, abs=0.1)


def test_a_file_damaged_part_way_is_transcribed_up_to_the_damage_and_says_so(
    api: LiveApi, keys: KeyPair, receiver: Receiver, tmp_path: Path
) -> None:
    """Never silently shortened: the document carries a warning that says where it stopped."""
    path = tmp_path / "jfk.flac"
    sf.write(path, load_audio(SPEECH_DIR / "jfk.flac").samples.T, 16000, subtype="PCM_16")
    status, document = _transcribe(api, keys, receiver, damaged(path, tmp_path / "bad.flac"))
    assert status == 202
    (warning,) = document["warnings"]
    assert warning["code"] == "audio_damaged"
    assert warning["message"].startswith("the audio stops decoding at 4.")
    assert "of the 11.0 s its header says" in warning["message"]
    for channel in document["channels"]:
        assert 4 < channel["duration"] < 5
        said = " ".join(s["raw_sentence"] for s in channel["transcript"])
        assert "my fellow americans" in said and "country" not in said
