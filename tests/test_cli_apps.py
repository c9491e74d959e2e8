"""The app/token CLI registers applications and mints tokens that work against the API.

(Retention is tested on a clock the test moves: test_service_clock.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from commands import Command
from live import free_port, live_api, new_keypair, service_settings


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


def test_token_refuses_a_ttl_that_is_not_a_positive_number_of_seconds(
    tmp_path: Path, run_cli: Command
) -> None:
    (tmp_path / "private.pem").write_text(new_keypair().private_pem)
    env = {"TRANSCRIBE__DATA_DIR": str(tmp_path / "d")}
    base = ("token", "--application-id", "x", "--private-key", tmp_path / "private.pem")
    for ttl, says in [
        ("0", "at least 1 second"),
        ("-5", "at least 1 second"),
        ("1.5", "whole number of seconds"),
        ("86401", "over 86400 s (TRANSCRIBE__MAX_TOKEN_LIFETIME_S)"),
    ]:
        refused = run_cli(*base, f"--ttl={ttl}", env=env)
        assert refused.returncode == 2 and says in refused.stderr, (ttl, refused.stderr)
        assert refused.stdout == "" and "Traceback" not in refused.stderr
    assert run_cli(*base, "--ttl=86400", env=env).returncode == 0


def test_token_given_a_public_key_says_so(tmp_path: Path, run_cli: Command) -> None:
    (tmp_path / "public.pem").write_text(new_keypair().public_pem)
    refused = run_cli(
        "token", "--application-id", "x", "--private-key", tmp_path / "public.pem",
        env={"TRANSCRIBE__DATA_DIR": str(tmp_path / "d")},
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert f"{tmp_path / 'public.pem'}: this is a public key" in refused.stderr
    assert "private key" in refused.stderr and "Traceback" not in refused.stderr
    assert refused.stdout == ""


def test_app_create_takes_only_http_event_urls(tmp_path: Path, run_cli: Command) -> None:
    (tmp_path / "public.pem").write_text(new_keypair().public_pem)
    env = {"TRANSCRIBE__DATA_DIR": str(tmp_path / "data")}
    for url in ("file:///etc/passwd", "gopher://127.0.0.1:6379/_FLUSHALL", "not a url"):
        refused = run_cli(
            "app", "create", "--name", "x", "--public-key", tmp_path / "public.pem",
            "--event-url", url, env=env,
        )  # fmt: skip
        assert refused.returncode == 2, refused.stdout
        assert "event_url: must be an http:// or https:// URL" in refused.stderr
        assert "Traceback" not in refused.stderr and refused.stdout == ""


def test_app_create_says_which_data_dir_and_database_it_wrote_to(
    tmp_path: Path, run_cli: Command, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no TRANSCRIBE__DATA_DIR the application lands in ./data of wherever the command
    ran; a `serve` started elsewhere would not know it, so the command says where."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRANSCRIBE__DATA_DIR", raising=False)
    monkeypatch.delenv("TRANSCRIBE__DATABASE_URL", raising=False)
    (tmp_path / "public.pem").write_text(new_keypair().public_pem)
    created = run_cli("app", "create", "--name", "here", "--public-key", "public.pem")
    assert created.returncode == 0, created.stderr
    app = json.loads(created.stdout)  # stdout stays the JSON alone
    data = tmp_path.resolve() / "data"
    assert created.stderr == (
        f"transcribe: registered application {app['id']} in the data dir {data} "
        f"(database sqlite:///{data / 'transcribe.db'}); run `transcribe serve` with the same "
        "TRANSCRIBE__DATA_DIR (and TRANSCRIBE__DATABASE_URL)\n"
    )
    assert (data / "transcribe.db").is_file()
