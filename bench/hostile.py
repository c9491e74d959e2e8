"""Benchmark: what hostile input costs a running service, and another application's job.

Starts `transcribe serve` in its own process (fresh data dir, SQLite, tiny.en on CPU, the
embedded workers; blocked networks emptied so that the receivers on loopback are reached) and
measures, for each attack, the server's peak resident memory (VmHWM, reset between phases
through /proc/PID/clear_refs), the growth of its data dir, and how long another
application's transcription takes from upload to its `transcribed` webhook while the attack
goes on, against the same job on the idle service:

1. decompression bombs (issue 14 item 1): a FLAC of 2 h 10 min of near-silence (about
   400 kB) and an OGG of 32 channels x 10 min (about 120 kB), uploaded for transcription;
2. hostile webhook receivers (item 2): the attacker's events go to a receiver that answers
   with an endless body and to one that trickles a byte a second;
5. a live leg faster than real time (item 5): two hours of audio sent as fast as the socket
   takes it.

Run: `.venv/bin/python bench/hostile.py` (about two minutes). Note the machine's load.
"""

from __future__ import annotations

import io
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import soundfile as sf
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from service import SPEECH, keypair, start_server
from transcribe.auth import mint_application_token

PORT = 8951


class Receivers:
    """Webhook receivers on loopback: `/ok` answers at once and notes when each event came;
    `/endless` streams a body without end; `/trickle` sends a byte a second."""

    def __init__(self) -> None:
        self.events: dict[str, float] = {}
        receivers = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/ok":
                    event = json.loads(body)
                    if event.get("status") == "transcribed":
                        receivers.events[event["recording_uuid"]] = time.monotonic()
                    self.send_response(200)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.end_headers()
                chunk, pause = (b"x" * 65536, 0.0) if self.path == "/endless" else (b"x", 1.0)
                try:
                    for _ in range(100_000):
                        self.wfile.write(chunk)
                        self.wfile.flush()
                        time.sleep(pause)
                except OSError:
                    pass  # the service hung up, as it should

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Server:
    def __init__(self, data_dir: Path) -> None:
        os.environ["TRANSCRIBE__WEBHOOKS__BLOCKED_NETWORKS"] = "[]"
        os.environ["TRANSCRIBE__WEBHOOKS__TIMEOUT_S"] = "5"
        self.data_dir = data_dir
        self.process = start_server(data_dir, PORT, [])
        self.url = f"http://127.0.0.1:{PORT}"

    def register(self, event_url: str) -> str:
        private, public = keypair()
        response = httpx.post(
            f"{self.url}/v1/applications",
            json={"name": "bench", "public_key": public, "event_url": event_url},
            headers={"Authorization": "Bearer bench"},
        )
        response.raise_for_status()
        app_id = str(response.json()["id"])
        return mint_application_token(app_id, private, ttl_s=3600)

    def reset_peak(self) -> None:
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def disk_mb(self) -> float:
        files = (p for p in self.data_dir.rglob("*") if p.is_file())
        return sum(p.stat().st_size for p in files) / 1e6

    def upload(self, token: str, name: str, data: bytes, **fields: str) -> httpx.Response:
        return httpx.post(
            f"{self.url}/v1/transcriptions",
            files={"file": (name, data, "application/octet-stream")},
            data=fields,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )


def encoded(samples: np.ndarray, rate: int, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, samples, rate, **kwargs)
    return buffer.getvalue()


def bombs() -> list[tuple[str, bytes]]:
    """The two files of item 1, written in blocks (a whole one would not fit this process)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        specs = [("long.flac", 130 * 60, 1, 16_000, "FLAC"), ("wide.ogg", 600, 32, 8000, "OGG")]
        for name, seconds, channels, rate, fmt in specs:
            path = Path(tmp) / name
            with sf.SoundFile(path, "w", rate, channels, format=fmt) as f:
                for _ in range(seconds // 10):  # digital silence: it compresses to nothing
                    f.write(np.zeros((rate * 10, channels), np.float32))
            out.append((name, path.read_bytes()))
    return out


def fast_leg(server: Server, token: str) -> str:
    """Two hours of audio over one leg as fast as it goes; how the leg ended."""
    created = httpx.post(
        f"{server.url}/v1/conversations",
        json={"ncco": [{"action": "record", "format": "wav"}]},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    leg = connect(f"{created['legs_url']}?token={token}", legacy=True)
    leg.send(json.dumps({"event": "websocket:connected", "content-type": "audio/l16;rate=16000"}))
    frame = bytes(640 * 50)  # one second of 16 kHz audio
    try:
        for _ in range(7200):
            leg.send(frame)
        leg.recv(timeout=10)
    except ConnectionClosed as closed:
        rcvd = closed.rcvd
        return f"closed {rcvd.code}: {rcvd.reason}" if rcvd else "dropped without a close frame"
    except TimeoutError:
        pass
    leg.close()
    return "not closed: all 2 hours were taken"


def timed_job(server: Server, token: str, receivers: Receivers, clip: bytes) -> float:
    """Upload to `transcribed` webhook of the victim's job, seconds."""
    started = time.monotonic()
    response = server.upload(token, "call.wav", clip, eventUrl=f"{receivers.url}/ok")
    uuid = response.json()["recording_uuid"]
    while uuid not in receivers.events:
        if time.monotonic() - started > 300:
            return float("inf")
        time.sleep(0.05)
    return receivers.events[uuid] - started


def phase(
    server: Server, label: str, attack: Callable[[], str], victim: Callable[[], float]
) -> None:
    server.reset_peak()
    disk = server.disk_mb()
    outcome: list[str] = []
    thread = threading.Thread(target=lambda: outcome.append(attack()))
    thread.start()
    time.sleep(1.0)  # the attack is under way
    delay = victim()
    thread.join(300)
    print(
        f"{label}: peak RSS {server.peak_mb():.0f} MB, data dir {server.disk_mb() - disk:+.1f} MB, "
        f"other application's job {delay:.1f} s; {outcome[0] if outcome else 'still running'}"
    )


def main() -> None:
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    receivers = Receivers()
    clip = encoded(sf.read(SPEECH / "jfk.wav", dtype="float32")[0], 16000, format="WAV")
    files = bombs()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp))
        try:
            attacker = server.register(f"{receivers.url}/ok")
            victim = server.register(f"{receivers.url}/ok")
            server.reset_peak()
            idle = timed_job(server, victim, receivers, clip)
            print(f"idle: peak RSS {server.peak_mb():.0f} MB, other application's job {idle:.1f} s")

            def send_bombs() -> str:
                answers = [
                    f"{name} ({len(data) // 1000} kB): "
                    f"{server.upload(attacker, name, data).status_code}"
                    for name, data in files
                ]
                return "; ".join(answers)

            def bad_receivers() -> str:
                for path in ("/endless", "/trickle") * 4:  # renders only: no transcription
                    record = {
                        "action": "record",
                        "format": "wav",
                        "eventUrl": [receivers.url + path],
                    }
                    httpx.post(
                        f"{server.url}/v1/recordings",
                        data={"record": json.dumps(record)},
                        files={"leg": ("leg.wav", clip)},
                        headers={"Authorization": f"Bearer {attacker}"},
                    ).raise_for_status()
                time.sleep(10)
                return "8 record events to an endless and a trickling receiver"

            phase(
                server,
                "2 receivers",
                bad_receivers,
                lambda: timed_job(server, victim, receivers, clip),
            )
            phase(
                server,
                "5 fast leg",
                lambda: fast_leg(server, attacker),
                lambda: timed_job(server, victim, receivers, clip),
            )
            # Last: the OGG is within the limits, so its 32 channels are then transcribed.
            phase(server, "1 bombs", send_bombs, lambda: timed_job(server, victim, receivers, clip))
        finally:
            server.process.terminate()
            server.process.wait(30)


if __name__ == "__main__":
    socket.setdefaulttimeout(None)
    main()
