"""Live legs over real WebSockets on loopback, framed as Vonage frames them."""

from __future__ import annotations

import io
import json
import threading
import time

import numpy as np
import pytest
import soundfile as sf
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from recordings import mp3_frames
from transcribe.auth import verify_webhook
from transcribe.service import Service

from live import (
    KeyPair,
    LiveApi,
    Receiver,
    new_keypair,
    open_leg,
    stream,
    token_for,
    two_legs,
)
from signals import dtmf, find_offset
from speech import Clip


def create(api: LiveApi, token: str, ncco: list[dict[str, object]]) -> dict[str, str]:
    with api.client(token) as client:
        response = client.post("/v1/conversations", json={"ncco": ncco})
        assert response.status_code == 201, response.text
        return dict(response.json())


def test_two_legs_stream_real_speech_into_a_split_recording(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    record = {
        "action": "record",
        "split": "conversation",
        "format": "wav",
        "eventUrl": [receiver.url],
        "transcription": {"language": "en-US"},
    }
    created = create(api, token, [record])
    caller, callee = clips["jfk.wav"].samples, clips["cards_005.wav"].samples
    end = time.monotonic() + len(caller) / 16000 + 0.5

    first = open_leg(created["legs_url"], token)
    time.sleep(1.0)
    second = open_leg(created["legs_url"], token, via_query=True)
    other = threading.Thread(target=stream, args=(second, callee, end))
    other.start()
    stream(first, caller, end)
    other.join()
    first.close()
    second.close()

    record_event, transcribed_event = receiver.wait_for(2)
    for event in (record_event, transcribed_event):
        verify_webhook(
            event.headers["authorization"].removeprefix("Bearer "),
            app["signature_secret"],
            event.body,
        )
    payload = record_event.json()
    assert payload["conversation_uuid"] == created["conversation_uuid"]
    with api.client(token) as client:
        audio = client.get(payload["recording_url"])
        assert audio.status_code == 200
        samples, rate = sf.read(io.BytesIO(audio.content))
        assert rate == 16000 and samples.shape[1] == 2
        assert samples.shape[0] / rate == pytest.approx(len(caller) / 16000 + 0.5, abs=0.6)

        document = client.get(transcribed_event.json()["transcription_url"]).json()
        left, right = (
            " ".join(s["raw_sentence"] for s in channel["transcript"])
            for channel in document["channels"]
        )
        assert "ask not what your country can do for you" in left and "spades" not in left
        assert "spades" in right and "country" not in right
        # The callee joined about a second after the caller: its words start there.
        assert document["channels"][1]["transcript"][0]["timestamp"] >= 900


@pytest.mark.parametrize(
    ("file_format", "content_type"), [(None, "audio/mpeg"), ("ogg", "audio/ogg")]
)
def test_a_live_call_is_stored_in_its_format_before_record_is_sent(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip],
    file_format: str | None, content_type: str,
) -> None:  # fmt: skip
    """Live legs are recorded as WAV and encoded once the call ends; `record` comes only when
    the file is there in the format asked for (MP3 by default, as Vonage's)."""
    app = api.register(keys)
    token = token_for(app["id"], keys)
    record: dict[str, object] = {
        "action": "record",
        "split": "conversation",
        "eventUrl": [receiver.url],
    }
    if file_format:
        record["format"] = file_format
    created = create(api, token, [record])
    caller, callee = clips["goforward.wav"].samples, clips["cards_005.wav"].samples
    two_legs(created["legs_url"], token, caller, callee)

    (event,) = receiver.wait_for(1)
    payload = event.json()
    with api.client(token) as client:
        audio = client.get(payload["recording_url"])
        view = client.get(f"/v1/recordings/{payload['recording_uuid']}").json()
    assert audio.status_code == 200 and audio.headers["content-type"] == content_type
    assert len(audio.content) == payload["size"] == view["size"]
    assert view["status"] == "ready" and view["format"] == (file_format or "mp3")
    assert view["end_reason"] == "hangup" and view["channels"] == 2
    if file_format is None:
        frames = mp3_frames(audio.content)
        assert {(f.kbps, f.sample_rate) for f in frames} == {(32, 16000)}
    samples, rate = sf.read(io.BytesIO(audio.content), dtype="float32", always_2d=True)
    assert rate == 16000 and samples.shape[1] == 2
    # MP3 runs up to one 36 ms frame longer than the recording; OGG is exact.
    assert samples.shape[0] / rate == pytest.approx(view["duration"], abs=0.04)
    assert view["duration"] == pytest.approx(len(callee) / 16000 + 0.3, abs=0.5)
    _, match = find_offset(samples[:, 0], caller)  # the caller is on the left
    assert match > 0.3
    # The WAV it was encoded from is gone once the file is stored.
    folder = api.settings.files_dir / "legs" / payload["recording_uuid"]
    deadline = time.monotonic() + 10
    while folder.exists():
        assert time.monotonic() < deadline, list(folder.iterdir())
        time.sleep(0.05)


def test_legs_take_channels_in_the_order_they_connected(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The first leg to connect is the caller (left) even when it is the slower to be let in,
    as it is when the thread that reads its conversation waits for a busy core."""
    service: Service = api.server.config.app.state.service
    lookup = service.conversations.actions
    slowed: list[str] = []

    def slow_for_the_first_leg(
        application_id: str, conversation_uuid: str, ncco_uuid: str | None = None
    ) -> object:
        if not slowed:
            slowed.append(conversation_uuid)
            time.sleep(0.5)
        return lookup(application_id, conversation_uuid, ncco_uuid)

    monkeypatch.setattr(service.conversations, "actions", slow_for_the_first_leg)
    app = api.register(keys)
    token = token_for(app["id"], keys)
    record = {"action": "record", "split": "conversation", "format": "wav"}
    created = create(api, token, [{**record, "eventUrl": [receiver.url]}])
    caller, callee = clips["goforward.wav"].samples, clips["cards_005.wav"].samples
    two_legs(created["legs_url"], token, caller, callee)

    (event,) = receiver.wait_for(1)
    assert slowed == [created["conversation_uuid"]]
    with api.client(token) as client:
        audio = client.get(event.json()["recording_url"])
    samples, _ = sf.read(io.BytesIO(audio.content), dtype="float32", always_2d=True)
    assert find_offset(samples[:, 0], caller)[1] > 0.5, "the caller is not on the left"
    assert find_offset(samples[:, 1], callee)[1] > 0.5, "the callee is not on the right"


def test_end_on_key_from_a_dtmf_event_and_from_an_in_band_tone(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip]
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    for how in ("event", "tone"):
        created = create(
            api, token, [{"action": "record", "endOnKey": "#", "eventUrl": [receiver.url]}]
        )
        leg = open_leg(created["legs_url"], token)
        speech = clips["goforward.wav"].samples
        stream(leg, speech)
        if how == "event":
            leg.send(json.dumps({"event": "websocket:dtmf", "digit": "#", "duration": 250}))
        else:
            stream(leg, dtmf("#", on=0.1, off=0.1))
        stream(leg, np.zeros(16000, np.float32))  # the call goes on; the recording does not
        leg.close()
        event = receiver.wait_for(1 if how == "event" else 2)[-1].json()
        with api.client(token) as client:
            view = client.get(f"/v1/recordings/{event['recording_uuid']}").json()
        assert view["end_reason"] == "key", how
        assert view["duration"] < len(speech) / 16000 + 0.6, how


@pytest.mark.parametrize(
    "first_frame,code,words",
    [
        ('{"event": "hello"}', 1007, "websocket:connected"),
        ("not json", 1007, "JSON"),
        ('{"event": "websocket:connected", "content-type": "audio/pcmu"}', 1003, "audio/l16"),
        ('{"event": "websocket:connected", "content-type": "audio/l16;rate=44100"}', 1003, "rate"),
    ],
)
def test_a_malformed_leg_is_closed_with_a_reason_and_the_call_goes_on(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip],
    first_frame: str, code: int, words: str,
) -> None:  # fmt: skip
    app = api.register(keys)
    token = token_for(app["id"], keys)
    created = create(api, token, [{"action": "record", "eventUrl": [receiver.url]}])
    good = open_leg(created["legs_url"], token)
    stream(good, clips["cards_001.wav"].samples[:8000])
    with connect(
        created["legs_url"], additional_headers={"Authorization": f"Bearer {token}"}
    ) as bad:
        bad.send(first_frame)
        with pytest.raises(ConnectionClosed) as closed:
            bad.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code
        assert words in closed.value.rcvd.reason
    stream(good, clips["cards_001.wav"].samples[8000:])
    good.close()
    (event,) = receiver.wait_for(1)
    assert event.json()["size"] > 0


@pytest.mark.parametrize("bad", ["odd", "garbage-text"])
def test_bad_frames_close_only_that_leg(
    api: LiveApi, keys: KeyPair, receiver: Receiver, clips: dict[str, Clip], bad: str
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    created = create(
        api,
        token,
        [{"action": "record", "channels": 2, "format": "wav", "eventUrl": [receiver.url]}],
    )
    good = open_leg(created["legs_url"], token)
    broken = open_leg(created["legs_url"], token)
    broken.send(b"\x00\x01\x02" if bad == "odd" else "}{")
    with pytest.raises(ConnectionClosed) as closed:
        broken.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code in (1003, 1007)
    stream(good, clips["cards_002.wav"].samples)
    good.close()
    (event,) = receiver.wait_for(1)
    with api.client(token) as client:
        audio = client.get(event.json()["recording_url"]).content
    samples, _ = sf.read(io.BytesIO(audio))
    assert np.abs(samples[:, 0]).max() > 0.05  # the good leg was recorded in full


def test_bad_credentials_and_unknown_conversations_close_the_socket(
    api: LiveApi, keys: KeyPair
) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    created = create(api, token, [{"action": "record"}])
    stranger_keys = new_keypair()
    stranger = token_for(api.register(stranger_keys)["id"], stranger_keys)
    cases = [
        (created["legs_url"], "not-a-jwt"),
        (created["legs_url"], stranger),  # another application's conversation
        (created["legs_url"].replace(created["conversation_uuid"], "0" * 8), token),
    ]
    for url, credential in cases:
        socket = connect(
            url, additional_headers={"Authorization": f"Bearer {credential}"}, legacy=True
        )
        with pytest.raises(ConnectionClosed) as closed:
            socket.send(
                json.dumps({"event": "websocket:connected", "content-type": "audio/l16;rate=16000"})
            )
            socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        socket.close()


def test_an_ncco_without_a_record_or_conversation_action_is_refused(
    api: LiveApi, keys: KeyPair
) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/conversations", json={"ncco": [{"action": "talk", "text": "hello"}]}
        )
        assert response.status_code == 422
        assert response.json()["invalid_parameters"][0]["name"] == "ncco"
        bad = client.post("/v1/conversations", json={"ncco": [{"action": "talk"}]})
        assert bad.status_code == 422
        assert bad.json()["invalid_parameters"][0]["name"] == "ncco[0].text"
