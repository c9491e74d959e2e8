"""The URLs a service hands out lead back to it: unless TRANSCRIBE__PUBLIC_URL says
otherwise, they follow `transcribe serve`'s --host and --port (`PORT=9000 make serve`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from transcribe.config import Settings

from live import free_port, register_over_http, wait_ready
from speech import SPEECH_DIR


@pytest.mark.parametrize(
    "host,url",
    [
        ("127.0.0.1", "http://127.0.0.1:9000"),
        ("localhost", "http://localhost:9000"),
        ("::1", "http://[::1]:9000"),
        ("0.0.0.0", f"http://{socket.gethostname()}:9000"),  # no address to connect to
    ],
)
def test_unset_public_url_follows_the_bind_address(
    monkeypatch: pytest.MonkeyPatch, host: str, url: str
) -> None:
    monkeypatch.delenv("TRANSCRIBE__PUBLIC_URL", raising=False)
    assert Settings().served_at(host, 9000).public_url == url


def test_a_public_url_that_is_set_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRANSCRIBE__PUBLIC_URL", "https://calls.example.com")
    assert Settings().served_at("0.0.0.0", 9000).public_url == "https://calls.example.com"


@pytest.mark.servers  # `transcribe serve` in a process of its own
@pytest.mark.model  # it transcribes, to hand out transcription_url
def test_serve_on_another_port_hands_out_urls_on_that_port(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TRANSCRIBE__PUBLIC_URL"}
    env |= {
        "TRANSCRIBE__DATA_DIR": str(tmp_path / "data"),
        "TRANSCRIBE__ADMIN_TOKEN": "test-admin-token",
        "TRANSCRIBE__ASR__DEVICE": "cpu",
    }
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "transcribe", "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, server, timeout=180)
        token = register_over_http(base, "port")
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
            clip = (SPEECH_DIR / "goforward.wav").open("rb")
            accepted = client.post("/v1/transcriptions", files={"file": clip})
            assert accepted.status_code == 202, accepted.text
            view = _wait_transcribed(client, accepted.json()["recording_uuid"])
            urls = [view["recording_url"], view["transcription"]["transcription_url"]]
            for url in urls:
                assert url.startswith(f"{base}/v1/files/"), url
                assert client.get(url).status_code == 200
            conversation = client.post("/v1/conversations", json={"ncco": [{"action": "record"}]})
            assert conversation.json()["legs_url"].startswith(f"ws://127.0.0.1:{port}/")
    finally:
        server.terminate()
        server.wait(30)
    said = log.read_text()
    assert f'"public URL {base} (from --host and --port; set TRANSCRIBE__PUBLIC_URL' in said


def _wait_transcribed(client: httpx.Client, uuid: str, timeout: float = 180) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view: dict[str, object] = client.get(f"/v1/recordings/{uuid}").json()
        transcription = view["transcription"]
        assert isinstance(transcription, dict)
        if transcription["status"] == "done":
            return view
        assert transcription["status"] != "failed", view
        time.sleep(0.2)
    raise AssertionError(f"{uuid} was not transcribed in {timeout} s")
