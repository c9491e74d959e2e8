"""POST /v1/recordings: per-leg files rendered by the engine, then `record` and `transcribed`."""

from __future__ import annotations

import io
import json

import pytest
import soundfile as sf

from transcribe.auth import verify_webhook

from live import (
    KeyPair,
    LiveApi,
    Receiver,
    token_for,
)
from speech import Clip


def leg_file(clip: Clip, rate: int = 16000) -> tuple[str, bytes, str]:
    buffer = io.BytesIO()
    samples = clip.samples if rate == 16000 else clip.samples[::2]  # 8 kHz phone leg
    sf.write(buffer, samples, rate, format="WAV", subtype="PCM_16")
    return (f"{clip.file}.wav", buffer.getvalue(), "audio/wav")


def test_three_legs_into_three_channels_then_transcribed(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    record = {
        "channels": 3,
        "eventUrl": [receiver.url],
        "transcription": {"language": "en-US"},
    }
    legs = [clips["jfk.wav"], clips["goforward.wav"], clips["librivox_sas01_0930.wav"]]
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/recordings",
            data={"record": json.dumps(record), "offset_ms": ["0", "12000", "15500"]},
            files=[("leg", leg_file(c)) for c in legs],
        )
        assert response.status_code == 202, response.text
        recording_uuid = response.json()["recording_uuid"]

        record_event, transcribed_event = receiver.wait_for(2)
        for event in (record_event, transcribed_event):
            token = event.headers["authorization"].removeprefix("Bearer ")
            verify_webhook(token, app["signature_secret"], event.body)
        payload = record_event.json()
        assert set(payload) == {
            "start_time", "recording_url", "size", "recording_uuid", "end_time",
            "conversation_uuid", "timestamp",
        }  # fmt: skip
        assert payload["recording_uuid"] == recording_uuid
        assert payload["recording_url"].split("/")[-1] != recording_uuid
        assert payload["start_time"].endswith("Z") and payload["end_time"] > payload["start_time"]

        audio = client.get(payload["recording_url"])
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
        assert len(audio.content) == payload["size"]
        samples, rate = sf.read(io.BytesIO(audio.content))
        assert rate == 16000 and samples.shape[1] == 3
        assert samples.shape[0] / rate == pytest.approx(15.5 + legs[2].duration, abs=0.05)

        document = client.get(transcribed_event.json()["transcription_url"]).json()
        said = [
            " ".join(s["raw_sentence"] for s in channel["transcript"])
            for channel in document["channels"]
        ]
        assert "ask not what your country" in said[0] and "forward" not in said[0]
        assert "go forward" in said[1] and "amiable" not in said[1]
        assert "amiable himself" in said[2] and "country" not in said[2]
        sentence = document["channels"][2]["transcript"][0]
        assert abs(sentence["timestamp"] - 15500) < 700

        view = client.get(f"/v1/recordings/{recording_uuid}").json()
        assert view["status"] == "ready" and view["channels"] == 3 and view["format"] == "wav"
        assert view["end_reason"] == "hangup"


def test_split_conversation_with_an_8khz_caller(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys, event_url=receiver.url)  # the application's URL gets the events
    record = {"split": "conversation", "format": "wav", "transcription": {}}
    legs = [leg_file(clips["jfk.wav"], rate=8000), leg_file(clips["cards_005.wav"])]
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/recordings",
            data={"record": json.dumps(record), "offset_ms": ["0", "11500"]},
            files=[("leg", leg) for leg in legs],
        )
        assert response.status_code == 202, response.text
        _, transcribed_event = receiver.wait_for(2)
        document = client.get(transcribed_event.json()["transcription_url"]).json()
        left, right = (
            " ".join(s["raw_sentence"] for s in channel["transcript"])
            for channel in document["channels"]
        )
        assert "your country" in left and "spades" not in left
        assert "spades" in right and "country" not in right


@pytest.mark.parametrize(
    "data,files,status,name",
    [
        ({"record": "{not json"}, 1, 422, "record"),
        ({"record": json.dumps({"channels": 40})}, 1, 422, "channels"),
        ({"record": json.dumps({"channels": 3, "format": "mp3"})}, 1, 422, "format"),
        ({"record": json.dumps({"endOnKey": "x"})}, 1, 422, "endOnKey"),
        ({"record": json.dumps({"colour": "red"})}, 1, 422, "colour"),
        ({"record": "{}", "offset_ms": ["0", "5"]}, 1, 422, "offset_ms"),
        ({"record": "{}"}, 0, 422, "leg"),
        ({}, 1, 422, "record"),
    ],
)
def test_bad_requests_name_the_field(
    api: LiveApi,
    keys: KeyPair,
    clips: dict[str, Clip],
    data: dict[str, object],
    files: int,
    status: int,
    name: str,
) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/recordings",
            data=data,
            files=[("leg", leg_file(clips["cards_001.wav"]))] * files or None,
        )
        assert response.status_code == status, response.text
        body = response.json()
        assert any(name in p["name"] for p in body["invalid_parameters"]), body
        assert client.get("/v1/recordings").json()["items"] == []


def test_a_bad_leg_is_named_and_nothing_is_stored(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/recordings",
            data={"record": "{}"},
            files=[
                ("leg", leg_file(clips["cards_001.wav"])),
                ("leg", ("b.wav", b"RIFF garbage" * 20, "audio/wav")),
            ],
        )
        assert response.status_code == 415, response.text
        assert response.json()["invalid_parameters"][0]["name"] == "leg[1]"
        assert client.get("/v1/recordings").json()["items"] == []
