"""Scale-out mode: an API node and a separate worker share PostgreSQL, Redis and a volume.

Runs against the machine's local PostgreSQL (127.0.0.1:5432, database `test`) and Redis
(127.0.0.1:6379) and skips, saying which, where they do not answer. Each run works in a fresh
PostgreSQL schema, dropped afterwards; tasks another run left in the Redis queue are harmless,
since a task only acts on rows its own database holds.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from postgres import fresh_schema

from live import Receiver, free_port, live_api, new_keypair, service_settings, token_for
from speech import Clip

REDIS = os.environ.get("TRANSCRIBE_TEST_REDIS", "redis://127.0.0.1:6379/0")

# PostgreSQL, Redis, and a worker process that loads the model.
pytestmark = [pytest.mark.servers, pytest.mark.model]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_schema() as url:
        yield url


@pytest.fixture
def redis_url() -> str:
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS} does not answer: {exc}")
    return REDIS


def test_api_node_and_worker_share_postgres_redis_and_a_volume(
    tmp_path: Path, postgres_url: str, redis_url: str, clips: dict[str, Clip]
) -> None:
    volume = tmp_path / "shared-volume"
    port = free_port()
    settings = service_settings(
        volume, port, database_url=postgres_url, queue_url=redis_url, embedded_worker=False
    )
    env = {
        **os.environ,
        "TRANSCRIBE__DATA_DIR": str(volume),
        "TRANSCRIBE__DATABASE_URL": postgres_url,
        "TRANSCRIBE__QUEUE_URL": redis_url,
        "TRANSCRIBE__PUBLIC_URL": settings.public_url,
        "TRANSCRIBE__ASR__DEVICE": "cpu",
        "TRANSCRIBE__WEBHOOKS__BLOCKED_NETWORKS": "[]",  # the receiver is on loopback
    }
    receiver = Receiver().start()
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "transcribe", "worker"], env=env, stdout=log, stderr=log
    )
    try:
        with live_api(settings, port) as api:
            with httpx.Client(base_url=api.url) as plain:
                assert plain.get("/readyz").status_code == 200  # no model on an API node
            keys = new_keypair()
            app = api.register(keys)
            buffer = io.BytesIO()
            sf.write(buffer, clips["librivox_sas01_0930.wav"].samples, 16000, format="WAV")
            with api.client(token_for(app["id"], keys)) as client:
                response = client.post(
                    "/v1/transcriptions",
                    files={"file": ("c.wav", buffer.getvalue(), "audio/wav")},
                    data={"eventUrl": receiver.url},
                )
                assert response.status_code == 202
                (event,) = receiver.wait_for(1, timeout=180)
                payload = event.json()
                assert payload["status"] == "transcribed", payload
                document = client.get(payload["transcription_url"]).json()
                said = document["channels"][0]["transcript"][0]["raw_sentence"]
                assert "amiable himself" in said
    finally:
        worker.terminate()
        worker.wait(30)
        log.close()
        receiver.stop()
    assert worker.returncode == 0, (tmp_path / "worker.log").read_text()[-2000:]
