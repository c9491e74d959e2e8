"""SIGKILL loses nothing: webhooks and transcriptions finish once a process is back."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

from live import (
    Receiver,
    free_port,
    open_leg,
    register_over_http,
    stream,
    two_legs,
    wait_ready,
)
from signals import find_offset
from speech import Clip

# `transcribe serve` and `transcribe worker` in processes of their own, to be killed.
pytestmark = [pytest.mark.servers, pytest.mark.model]

ENV = {
    "TRANSCRIBE__ADMIN_TOKEN": "test-admin-token",
    "TRANSCRIBE__ASR__DEVICE": "cpu",
    "TRANSCRIBE__WEBHOOKS__BACKOFF_BASE_S": "1.5",
    "TRANSCRIBE__WEBHOOKS__SWEEP_INTERVAL_S": "0.2",
    "TRANSCRIBE__WEBHOOKS__BLOCKED_NETWORKS": "[]",  # the receiver is on loopback
    "TRANSCRIBE__JOBS__HEARTBEAT_S": "0.3",
    "TRANSCRIBE__JOBS__STALE_AFTER_S": "2",
}


def _env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        **ENV,
        "TRANSCRIBE__DATA_DIR": str(data_dir),
        "TRANSCRIBE__PUBLIC_URL": f"http://127.0.0.1:{port}",
        **extra,
    }


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "transcribe", *args], env=env, stdout=out, stderr=out
        )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def wav(samples: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, 16000, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def test_a_service_killed_between_attempts_still_delivers(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(tmp_path / "data", port)
    receiver = Receiver(statuses=[503]).start()
    log = tmp_path / "serve.log"
    try:
        with process(["serve", "--port", str(port)], env, log) as first:
            wait_ready(url)
            token = register_over_http(url, "durable")
            response = httpx.post(
                f"{url}/v1/transcriptions",
                files={"file": ("c.wav", wav(clips["cards_005.wav"].samples), "audio/wav")},
                data={"eventUrl": receiver.url},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 202
            receiver.wait_for(1)
            # Between attempts: the 503 is recorded and the retry is scheduled, not yet due.
            deadline = time.monotonic() + 30
            while True:
                (delivery,) = httpx.get(
                    f"{url}/v1/webhooks/deliveries", headers={"Authorization": f"Bearer {token}"}
                ).json()
                if len(delivery["attempts"]) == 1:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.02)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        time.sleep(2.0)  # past the retry's due time while nothing runs
        assert len(receiver.requests) == 1
        with process(["serve", "--port", str(port)], env, log):
            wait_ready(url)
            requests = receiver.wait_for(2, timeout=60)
            assert requests[0].body == requests[1].body
            deliveries = httpx.get(
                f"{url}/v1/webhooks/deliveries", headers={"Authorization": f"Bearer {token}"}
            ).json()
            assert [a["status_code"] for a in deliveries[0]["attempts"]] == [503, 200]
            assert deliveries[0]["status"] == "delivered"
    finally:
        receiver.stop()


def test_a_worker_killed_mid_transcription_is_replaced(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    api_env = _env(data, port, TRANSCRIBE__EMBEDDED_WORKER="false")
    worker_env = _env(data, port)
    receiver = Receiver().start()
    # A minute of speech: long enough to catch the worker in the middle of it.
    names = [n for n in clips if n.startswith(("ls_", "librivox"))]
    speech = np.concatenate([clips[n].samples for n in names] * 2)
    log = tmp_path / "procs.log"
    try:
        with process(["serve", "--port", str(port)], api_env, log):
            wait_ready(url)
            token = register_over_http(url, "durable")
            auth = {"Authorization": f"Bearer {token}"}
            response = httpx.post(
                f"{url}/v1/transcriptions",
                files={"file": ("long.wav", wav(speech), "audio/wav")},
                data={"eventUrl": receiver.url},
                headers=auth,
            )
            assert response.status_code == 202
            recording = f"{url}/v1/recordings/{response.json()['recording_uuid']}"
            with process(["worker"], worker_env, log) as worker:
                deadline = time.monotonic() + 120
                while httpx.get(recording, headers=auth).json()["transcription"]["status"] != (
                    "running"
                ):
                    assert time.monotonic() < deadline, log.read_text()[-3000:]
                    time.sleep(0.05)
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
            assert receiver.requests == []
            assert httpx.get(recording, headers=auth).json()["transcription"]["status"] == (
                "running"
            )
            with process(["worker"], worker_env, log):
                (event,) = receiver.wait_for(1, timeout=240)
            payload = event.json()
            assert payload["status"] == "transcribed", payload
            document = httpx.get(payload["transcription_url"], headers=auth).json()
            said = " ".join(s["raw_sentence"] for s in document["channels"][0]["transcript"])
            assert "narrative would be tedious" in said
            assert len(receiver.requests) == 1  # one event, however many times the job ran
    finally:
        receiver.stop()


def test_a_live_call_killed_before_its_encoding_is_stored_by_the_next_process(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    """SIGKILL after a live call ended and before its MP3 was encoded: the call's WAV and
    the queued render job survive, and the next process encodes, stores and sends `record`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    receiver = Receiver().start()
    log = tmp_path / "serve.log"
    record = {"action": "record", "split": "conversation", "eventUrl": [receiver.url]}
    try:
        # An API node with no queue workers: it takes the call, and nothing encodes it yet.
        api_only = _env(data, port, TRANSCRIBE__EMBEDDED_WORKER="false")
        with process(["serve", "--port", str(port)], api_only, log) as first:
            wait_ready(url)
            token = register_over_http(url, "durable")
            auth = {"Authorization": f"Bearer {token}"}
            created = httpx.post(
                f"{url}/v1/conversations", json={"ncco": [record]}, headers=auth
            ).json()
            caller, callee = clips["goforward.wav"].samples, clips["cards_005.wav"].samples
            two_legs(created["legs_url"], token, caller, callee)
            deadline = time.monotonic() + 30
            while True:
                (ended,) = httpx.get(
                    f"{url}/v1/recordings",
                    params={"conversation_uuid": created["conversation_uuid"]},
                    headers=auth,
                ).json()["items"]
                if ended["status"] == "queued":
                    break
                assert time.monotonic() < deadline, ended
                time.sleep(0.05)
            assert ended["recording_url"] is None and ended["end_reason"] == "hangup"
            wav = data / "files" / "legs" / ended["recording_uuid"] / "live.wav"
            assert sf.info(str(wav)).channels == 2
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert receiver.requests == []

        with process(["serve", "--port", str(port)], _env(data, port), log):
            (event,) = receiver.wait_for(1, timeout=180)
            payload = event.json()
            assert payload["recording_uuid"] == ended["recording_uuid"]
            audio = httpx.get(payload["recording_url"], headers=auth)
            view = httpx.get(f"{url}/v1/recordings/{ended['recording_uuid']}", headers=auth).json()
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
        samples, rate = sf.read(io.BytesIO(audio.content), always_2d=True)
        assert rate == 16000 and samples.shape[1] == 2
        assert samples.shape[0] / rate == pytest.approx(ended["duration"], abs=0.04)
        assert view["status"] == "ready" and view["format"] == "mp3"
        assert (view["start_time"], view["end_time"]) == (ended["start_time"], ended["end_time"])
        assert not wav.exists()
    finally:
        receiver.stop()


def test_a_service_killed_mid_call_renders_what_reached_disk_when_it_is_back(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    """SIGKILL while two legs stream: the recording is left `recording`, its WAV half
    written. The next process finds it (its heartbeat stopped), renders what reached disk as
    ended by a restart, and sends `record`."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = _env(tmp_path / "data", port)
    receiver = Receiver().start()
    log = tmp_path / "serve.log"
    record = {"action": "record", "split": "conversation", "eventUrl": [receiver.url]}
    caller = clips["jfk.wav"].samples
    callee = clips["ls_test-clean_1089-134686-0001.wav"].samples
    streamed = 4.0  # seconds of each, both clips being longer
    try:
        with process(["serve", "--port", str(port)], env, log) as first:
            wait_ready(url)
            token = register_over_http(url, "durable")
            auth = {"Authorization": f"Bearer {token}"}
            created = httpx.post(
                f"{url}/v1/conversations", json={"ncco": [record]}, headers=auth
            ).json()
            legs = [open_leg(created["legs_url"], token) for _ in range(2)]
            talking = [
                threading.Thread(target=stream, args=(leg, voice[: int(streamed * 16000)]))
                for leg, voice in zip(legs, (caller, callee), strict=True)
            ]
            for thread in talking:
                thread.start()
            for thread in talking:
                thread.join()
            stopped = time.monotonic()  # the legs are still connected, silent from here
            (during,) = httpx.get(
                f"{url}/v1/recordings",
                params={"conversation_uuid": created["conversation_uuid"]},
                headers=auth,
            ).json()["items"]
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            silent_s = time.monotonic() - stopped
        assert during["status"] == "recording", during
        for leg in legs:
            leg.close()

        with process(["serve", "--port", str(port)], env, log):
            (event,) = receiver.wait_for(1, timeout=120)
            payload = event.json()
            recording = f"{url}/v1/recordings/{during['recording_uuid']}"
            view = httpx.get(recording, headers=auth).json()
            audio = httpx.get(payload["recording_url"], headers=auth)
        assert payload["recording_uuid"] == during["recording_uuid"]
        assert view["status"] == "ready" and view["end_reason"] == "restart", view
        assert audio.status_code == 200 and audio.headers["content-type"] == "audio/mpeg"
        samples, rate = sf.read(io.BytesIO(audio.content), always_2d=True)
        assert rate == 16000 and samples.shape[1] == 2
        # What was streamed, up to the silence (legs quiet 2 s are padded) before the kill.
        assert streamed - 0.5 < view["duration"] < streamed + silent_s + 0.5, view
        _, match = find_offset(samples[:, 0], caller[: 3 * 16000])
        assert match > 0.3  # the caller, on the left
    finally:
        receiver.stop()


@pytest.fixture(autouse=True)
def _no_stray_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
