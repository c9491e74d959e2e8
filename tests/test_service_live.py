"""Live legs over real WebSockets on loopback, framed as Vonage frames them."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
import soundfile as sf
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from transcribe.audio import to_int16
from transcribe.auth import verify_webhook

from conftest import Clip
from live import (
    KeyPair,
    LiveApi,
    Receiver,
    free_port,
    live_api,
    new_keypair,
    service_settings,
    token_for,
)
from signals import dtmf

FRAME = 320  # 20 ms at 16 kHz


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    port = free_port()
    with live_api(service_settings(tmp_path_factory.mktemp("live"), port), port) as server:
        server.wait_ready()
        yield server


def open_leg(
    legs_url: str, token: str, rate: int = 16000, via_query: bool = False
) -> ClientConnection:
    if via_query:
        socket = connect(f"{legs_url}?token={token}", legacy=True)
    else:
        socket = connect(
            legs_url, additional_headers={"Authorization": f"Bearer {token}"}, legacy=True
        )
    socket.send(
        json.dumps(
            {
                "event": "websocket:connected",
                "content-type": f"audio/l16;rate={rate}",
                "caller": "x",
            }
        )
    )
    return socket


def stream(socket: ClientConnection, samples: np.ndarray, until: float | None = None) -> None:
    """Send 20 ms frames in real time; pad with silence frames until `until` (monotonic)."""
    pcm = to_int16(samples).tobytes()
    started = time.monotonic()
    frames = [pcm[i : i + 2 * FRAME] for i in range(0, len(pcm), 2 * FRAME)]
    n = 0
    while n < len(frames) or (until is not None and time.monotonic() < until):
        frame = frames[n] if n < len(frames) else bytes(2 * FRAME)
        socket.send(frame)
        n += 1
        delay = started + n * 0.02 - time.monotonic()
        if delay > 0:
            time.sleep(delay)


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


def test_an_ncco_that_records_nothing_is_refused(api: LiveApi, keys: KeyPair) -> None:
    app = api.register(keys)
    with api.client(token_for(app["id"], keys)) as client:
        response = client.post(
            "/v1/conversations", json={"ncco": [{"action": "conversation", "name": "room"}]}
        )
        assert response.status_code == 422
        assert response.json()["invalid_parameters"][0]["name"] == "ncco"
        bad = client.post("/v1/conversations", json={"ncco": [{"action": "talk"}]})
        assert bad.status_code == 422 and "action" in bad.json()["invalid_parameters"][0]["name"]
