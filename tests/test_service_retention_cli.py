"""Retention deletes what has expired; the app/token CLI registers and mints working tokens."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from commands import Command
from live import Receiver, free_port, live_api, new_keypair, service_settings, token_for
from speech import Clip


@pytest.mark.model  # a service of its own (its retention is 8 s), which transcribes
def test_recordings_past_retention_are_deleted_with_their_files(
    tmp_path: Path, clips: dict[str, Clip]
) -> None:
    port = free_port()
    settings = service_settings(tmp_path / "data", port, retention_days=8 / 86400)  # 8 s
    receiver = Receiver().start()
    try:
        with live_api(settings, port) as api:
            api.wait_ready()
            keys = new_keypair()
            app = api.register(keys)
            buffer = io.BytesIO()
            sf.write(buffer, clips["goforward.wav"].samples, 16000, format="WAV")
            with api.client(token_for(app["id"], keys)) as client:
                accepted = client.post(
                    "/v1/transcriptions",
                    files={"file": ("c.wav", buffer.getvalue(), "audio/wav")},
                    data={"eventUrl": receiver.url},
                ).json()
                (event,) = receiver.wait_for(1)
                url = event.json()["transcription_url"]
                view = client.get(f"/v1/recordings/{accepted['recording_uuid']}").json()
                assert client.get(url).status_code == 200
                stored = list((tmp_path / "data" / "files").glob("*.*"))
                assert len(stored) == 2  # the audio and the transcript
                deadline = time.monotonic() + 30
                while client.get(url).status_code != 404:
                    assert time.monotonic() < deadline, "never expired"
                    time.sleep(0.2)
                # Expired is gone for callers at once, before the periodic purge runs.
                assert client.get(view["recording_url"]).status_code == 404
                assert client.get(f"/v1/recordings/{view['recording_uuid']}").status_code == 404
                assert client.get("/v1/recordings").json()["items"] == []
                # The purge then deletes the files themselves.
                while list((tmp_path / "data" / "files").glob("*.*")):
                    assert time.monotonic() < deadline, "files never purged"
                    time.sleep(0.2)
    finally:
        receiver.stop()


def test_app_create_and_token_work_against_the_api(tmp_path: Path, run_cli: Command) -> None:
    data = tmp_path / "data"
    env = {"TRANSCRIBE__DATA_DIR": str(data)}
    keys = new_keypair()
    (tmp_path / "public.pem").write_text(keys.public_pem)
    (tmp_path / "private.pem").write_text(keys.private_pem)
    created = run_cli(
        "app", "create", "--name", "cli app", "--public-key", tmp_path / "public.pem",
        "--event-url", "http://127.0.0.1:9/hook", env=env,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    app = json.loads(created.stdout)
    assert app["name"] == "cli app" and app["signature_secret"] and app["event_method"] == "POST"

    minted = run_cli(
        "token", "--application-id", app["id"], "--private-key", tmp_path / "private.pem",
        env=env,
    )  # fmt: skip
    assert minted.returncode == 0, minted.stderr
    port = free_port()
    settings = service_settings(data, port, embedded_worker=False)
    with live_api(settings, port) as api:
        token = minted.stdout.strip()
        response = httpx.get(
            f"{api.url}/v1/recordings", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200 and response.json()["items"] == []


def test_cli_errors_are_one_line(tmp_path: Path, run_cli: Command) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    env = {"TRANSCRIBE__DATA_DIR": str(tmp_path / "d")}
    bad_key = run_cli("app", "create", "--name", "x", "--public-key", tmp_path / "bad.pem", env=env)
    assert bad_key.returncode == 2 and "public_key is not a PEM" in bad_key.stderr
    missing = run_cli(
        "token", "--application-id", "x", "--private-key", tmp_path / "nope.pem", env=env
    )
    assert missing.returncode == 2 and "cannot read the private key" in missing.stderr
    for result in (bad_key, missing):
        assert "Traceback" not in result.stderr
