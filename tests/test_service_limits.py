"""The limits that keep one caller from filling the disk or taking every leg: live legs at
real-time pace, in frames up to 64 KiB, connected within a deadline, a number of them per
application; and a free-disk floor under uploads and new legs."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from transcribe.audio import to_int16

from live import (
    KeyPair,
    LiveApi,
    free_port,
    live_api,
    new_keypair,
    open_leg,
    service_settings,
    stream,
    token_for,
)
from speech import Clip

MAX_AHEAD_S = 2
API_SETTINGS = {
    "embedded_worker": False,  # no model: WAV recordings are stored by the API itself
    "live": {"max_ahead_s": MAX_AHEAD_S, "first_frame_timeout_s": 1, "max_legs_per_application": 2},
}
WAV = {"action": "record", "format": "wav"}


def create(api: LiveApi, token: str) -> dict[str, str]:
    with api.client(token) as client:
        response = client.post("/v1/conversations", json={"ncco": [WAV]})
        assert response.status_code == 201, response.text
        return dict(response.json())


def closed_by_server(socket: ClientConnection) -> tuple[int, str]:
    """The close code and reason the service ended this leg with."""
    with pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None, "the connection dropped without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


def refused(legs_url: str, token: str) -> tuple[int, str]:
    """The close code and reason of a new leg that the service will not take."""
    with pytest.raises(ConnectionClosed) as closed:
        open_leg(legs_url, token).recv(timeout=10)
    assert closed.value.rcvd is not None, "the connection dropped without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


def stored(api: LiveApi, token: str, conversation_uuid: str) -> dict[str, object]:
    """The conversation's recording, once it is stored."""
    deadline = time.monotonic() + 30
    with api.client(token) as client:
        while True:
            items = client.get(
                "/v1/recordings", params={"conversation_uuid": conversation_uuid}
            ).json()["items"]
            if items and items[0]["status"] == "ready":
                return dict(items[0])
            assert time.monotonic() < deadline, items
            time.sleep(0.05)


def wait_live_legs(api: LiveApi, count: int) -> None:
    """Until the service counts `count` legs streaming (its /metrics gauge)."""
    deadline = time.monotonic() + 30
    with api.client() as client:
        while True:
            text = client.get("/metrics").text
            line = next(x for x in text.splitlines() if x.startswith("transcribe_live_legs "))
            if float(line.split()[1]) == count:
                return
            assert time.monotonic() < deadline, line
            time.sleep(0.02)


def test_a_leg_far_ahead_of_real_time_is_closed_and_its_recording_stays_short(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    """A minute of speech sent as fast as the socket takes it: the leg is closed once it is
    MAX_AHEAD_S ahead of the clock, and the recording holds no more than that."""
    token = token_for(api.register(keys)["id"], keys)
    created = create(api, token)
    speech = np.tile(clips["jfk.wav"].samples, 6)[: 60 * 16000]
    pcm = to_int16(speech).tobytes()
    leg = open_leg(created["legs_url"], token)
    try:
        for i in range(0, len(pcm), 32000):  # one second of audio a frame
            leg.send(pcm[i : i + 32000])
    except ConnectionClosed:
        pass  # closed while we were still sending
    code, reason = closed_by_server(leg)
    assert code == 1008 and "live.max_ahead_s" in reason, reason
    recording = stored(api, token, created["conversation_uuid"])
    assert recording["duration"] <= MAX_AHEAD_S + 1, recording  # not the minute that was sent


def test_a_frame_over_64_kib_closes_the_leg(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    token = token_for(api.register(keys)["id"], keys)
    leg = open_leg(create(api, token)["legs_url"], token)
    leg.send(to_int16(clips["jfk.wav"].samples).tobytes()[: 65 * 1024])
    code, reason = closed_by_server(leg)
    assert code == 1008 and "65536" in reason, reason


def test_a_text_frame_nested_past_the_stack_closes_only_that_leg(
    api: LiveApi, keys: KeyPair
) -> None:
    token = token_for(api.register(keys)["id"], keys)
    leg = open_leg(create(api, token)["legs_url"], token)
    leg.send("[" * 30_000 + "]" * 30_000)  # under 64 KiB, deeper than Python's stack
    code, reason = closed_by_server(leg)
    assert code == 1007 and "JSON objects" in reason, reason


def test_a_leg_that_never_says_websocket_connected_is_closed(api: LiveApi, keys: KeyPair) -> None:
    token = token_for(api.register(keys)["id"], keys)
    legs_url = create(api, token)["legs_url"]
    with connect(legs_url, additional_headers={"Authorization": f"Bearer {token}"}) as silent:
        code, reason = closed_by_server(silent)
    assert code == 1008 and "live.first_frame_timeout_s" in reason, reason


def test_an_application_at_its_limit_of_legs_is_refused_another_one_is_not(
    api: LiveApi, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    token = token_for(api.register(keys)["id"], keys)
    other_keys = new_keypair()
    other_token = token_for(api.register(other_keys)["id"], other_keys)
    ours, theirs = create(api, token), create(api, other_token)
    wait_live_legs(api, 0)
    first = open_leg(ours["legs_url"], token)
    wait_live_legs(api, 1)
    second = open_leg(ours["legs_url"], token)
    wait_live_legs(api, 2)

    code, reason = refused(ours["legs_url"], token)
    assert code == 1013 and "live.max_legs_per_application" in reason, reason
    other = open_leg(theirs["legs_url"], other_token)  # another application's leg is let in
    wait_live_legs(api, 3)
    first.close()  # and once one of ours has left, so is a new one of ours
    wait_live_legs(api, 2)
    again = open_leg(ours["legs_url"], token)
    wait_live_legs(api, 3)

    speech = clips["cards_001.wav"].samples
    stream(other, speech)
    for leg in (other, second, again):
        leg.close()
    recording = stored(api, other_token, theirs["conversation_uuid"])
    assert recording["duration"] == pytest.approx(len(speech) / 16000, abs=0.5)


def test_below_the_disk_floor_uploads_get_503_with_retry_after_and_legs_are_refused(
    tmp_path: Path, keys: KeyPair, clips: dict[str, Clip]
) -> None:
    port = free_port()
    floor = 1 << 62  # more than any disk has free
    settings = service_settings(tmp_path, port, embedded_worker=False, min_free_disk_bytes=floor)
    buffer = io.BytesIO()
    sf.write(buffer, clips["cards_001.wav"].samples, 16000, format="WAV", subtype="PCM_16")
    audio = ("call.wav", buffer.getvalue(), "audio/wav")
    with live_api(settings, port) as api:
        api.wait_ready()
        token = token_for(api.register(keys)["id"], keys)
        with api.client(token) as client:
            uploads = [
                client.post("/v1/transcriptions", files={"file": audio}),
                client.post("/v1/recordings", data={"record": "{}"}, files={"leg": audio}),
            ]
            for response in uploads:
                assert response.status_code == 503, response.text
                assert int(response.headers["retry-after"]) > 0
                assert "min_free_disk_bytes" in response.json()["detail"]
            assert client.get("/v1/recordings").json()["items"] == []
        code, reason = refused(create(api, token)["legs_url"], token)
        assert code == 1013 and "min_free_disk_bytes" in reason, reason
