"""The app/token CLI registers applications and mints tokens that work against the API.

(Retention is tested on a clock the test moves: test_service_clock.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from live import free_port, live_api, new_keypair, service_settings


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRANSCRIBE__DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "transcribe", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_app_create_and_token_work_against_the_api(tmp_path: Path) -> None:
    data = tmp_path / "data"
    keys = new_keypair()
    (tmp_path / "public.pem").write_text(keys.public_pem)
    (tmp_path / "private.pem").write_text(keys.private_pem)
    created = _cli(
        "app", "create", "--name", "cli app", "--public-key", str(tmp_path / "public.pem"),
        "--event-url", "http://127.0.0.1:9/hook", data_dir=data,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    app = json.loads(created.stdout)
    assert app["name"] == "cli app" and app["signature_secret"] and app["event_method"] == "POST"

    minted = _cli(
        "token", "--application-id", app["id"], "--private-key", str(tmp_path / "private.pem"),
        data_dir=data,
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


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a key")
    bad_key = _cli(
        "app", "create", "--name", "x", "--public-key", str(tmp_path / "bad.pem"),
        data_dir=tmp_path / "d",
    )  # fmt: skip
    assert bad_key.returncode == 2 and "public_key is not a PEM" in bad_key.stderr
    missing = _cli(
        "token", "--application-id", "x", "--private-key", str(tmp_path / "nope.pem"),
        data_dir=tmp_path / "d",
    )  # fmt: skip
    assert missing.returncode == 2 and "cannot read the private key" in missing.stderr
    for result in (bad_key, missing):
        assert "Traceback" not in result.stderr
