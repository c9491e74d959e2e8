"""Benchmark: live legs in real time, and transcription_url fetch latency, on loopback.

Starts `transcribe serve` in its own process (a fresh data dir, SQLite) and drives it from
this one, both on the same two cores:

1. Live legs. For each load level and format, N legs (N/2 two-leg conversations recorded
   split, in MP3, Vonage's default, then WAV) stream real speech in 20 ms frames at real-time
   pace for `--seconds`. The service measures how far behind real time each leg's audio was when the
   recorder took it (`transcribe_live_leg_lag_seconds`); a level passes when no hand-over was
   more than 100 ms behind. This client's own lateness in sending is printed too: if it is
   large, the client, not the service, was the bottleneck.
2. Fetches. 50 concurrent clients fetch one transcription document through
   `transcription_url` with a JWT for `--fetch-seconds`; prints p50/p99/max and requests/s.

Run: `.venv/bin/python bench/service.py` (about two minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import connect

from transcribe.audio import to_int16
from transcribe.auth import mint_application_token

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"
FRAME_S = 0.02
LATE_S = 0.1


def keypair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRANSCRIBE__DATA_DIR": str(data_dir),
        "TRANSCRIBE__ADMIN_TOKEN": "bench",
        "TRANSCRIBE__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TRANSCRIBE__ASR__DEVICE": "cpu",
    }
    log = (data_dir / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "transcribe", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("the service did not start; see serve.log")


def lag_counts(url: str) -> tuple[float, float]:
    """(hand-overs in all, hand-overs more than LATE_S behind) from /metrics."""
    total = within = 0.0
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("transcribe_live_leg_lag_seconds_count"):
            total = float(line.split()[-1])
        if line.startswith('transcribe_live_leg_lag_seconds_bucket{le="0.1"}'):
            within = float(line.split()[-1])
    return total, total - within


async def leg(url: str, token: str, pcm: bytes, seconds: float, late: list[float]) -> None:
    frame = int(16000 * FRAME_S) * 2
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        await ws.send(
            json.dumps({"event": "websocket:connected", "content-type": "audio/l16;rate=16000"})
        )
        start = time.monotonic()
        worst = 0.0
        for n in range(int(seconds / FRAME_S)):
            due = start + n * FRAME_S
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            else:
                worst = max(worst, now - due)
            offset = (n * frame) % (len(pcm) - frame)
            await ws.send(pcm[offset : offset + frame])
        late.append(worst)


async def live_level(
    base: str, token: str, legs: int, seconds: float, pcm: bytes, file_format: str
) -> float:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        urls = []
        for _ in range(legs // 2):
            record = {"action": "record", "split": "conversation", "format": file_format}
            body = {"ncco": [record]}
            urls.append((await c.post("/v1/conversations", json=body)).json()["legs_url"])
    late: list[float] = []
    await asyncio.gather(*(leg(url, token, pcm, seconds, late) for url in urls for _ in range(2)))
    return max(late)


async def fetches(url: str, token: str, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def client() -> None:
        async with httpx.AsyncClient(headers=headers, timeout=30) as c:
            while time.monotonic() < stop:
                started = time.perf_counter()
                response = await c.get(url)
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--levels", default="50,100,150,200,250,300")
    parser.add_argument("--formats", default="mp3,wav", help="recording formats to try")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fetch-seconds", type=float, default=10.0)
    parser.add_argument("--port", type=int, default=8931)
    args = parser.parse_args()

    speech = np.concatenate(
        [sf.read(SPEECH / f, dtype="float32")[0] for f in ("jfk.wav", "goforward.wav")]
    )
    pcm = to_int16(speech).tobytes()
    base = f"http://127.0.0.1:{args.port}"
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), args.port)
        try:
            private, public = keypair()
            app = httpx.post(
                f"{base}/v1/applications",
                json={"name": "bench", "public_key": public},
                headers={"Authorization": "Bearer bench"},
            ).json()
            token = mint_application_token(app["id"], private, ttl_s=3600)

            for file_format in args.formats.split(","):
                print(
                    f"live legs, {args.seconds:g} s each, 20 ms frames, split {file_format} "
                    "recordings:"
                )
                best = 0
                for legs in (int(x) for x in args.levels.split(",")):
                    before = lag_counts(base)
                    client_late = asyncio.run(
                        live_level(base, token, legs, args.seconds, pcm, file_format)
                    )
                    time.sleep(1.0)
                    after = lag_counts(base)
                    handovers, late = after[0] - before[0], after[1] - before[1]
                    ok = late == 0
                    if ok:
                        best = legs
                    print(
                        f"  {legs:4d} legs: {int(handovers):6d} hand-overs, {int(late):5d} more "
                        f"than {LATE_S * 1000:.0f} ms behind; client worst send delay "
                        f"{client_late * 1000:.0f} ms -> {'ok' if ok else 'LATE'}",
                        flush=True,
                    )
                    if not ok:
                        break
                print(f"  most concurrent legs with no frame late by > 100 ms: {best}")

            upload = Path(tmp) / "call.wav"
            sf.write(upload, speech, 16000)
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
                accepted = c.post("/v1/transcriptions", files={"file": upload.open("rb")}).json()
                while True:
                    view = c.get(f"/v1/recordings/{accepted['recording_uuid']}").json()
                    if view["transcription"]["status"] == "done":
                        break
                    time.sleep(0.2)
            target = view["transcription"]["transcription_url"]
            latencies = sorted(asyncio.run(fetches(target, token, 50, args.fetch_seconds)))
            p50 = statistics.median(latencies)
            p99 = latencies[int(len(latencies) * 0.99) - 1]
            print(
                f"transcription_url fetches, 50 concurrent clients, {args.fetch_seconds:g} s: "
                f"{len(latencies)} requests ({len(latencies) / args.fetch_seconds:.0f}/s), "
                f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
                f"max {latencies[-1] * 1000:.1f} ms"
            )
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
