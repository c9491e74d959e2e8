"""Real things for service tests: RSA keys, the API on a loopback port, a webhook receiver."""

from __future__ import annotations

import io
import json
import re
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
import numpy as np
import soundfile as sf
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.sync.client import ClientConnection, connect

from transcribe.api import create_app
from transcribe.audio import to_int16
from transcribe.auth import mint_application_token
from transcribe.clock import Clock
from transcribe.config import Settings


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def new_keypair() -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private, public)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_settings(data_dir: Path, port: int, **overrides: Any) -> Settings:
    """Settings for a test service: fast retries and sweeps, an admin token, loopback URLs,
    and webhooks allowed to reach the receivers on loopback (no blocked networks)."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "public_url": f"http://127.0.0.1:{port}",
        "admin_token": "test-admin-token",
        "asr": {"device": "cpu", "workers": 1},
        "webhooks": {
            "backoff_base_s": 0.4,
            "sweep_interval_s": 0.1,
            "timeout_s": 5,
            "blocked_networks": [],
        },
        "jobs": {"heartbeat_s": 0.3, "stale_after_s": 3, "consumer_threads": 2},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(**values)


@dataclass
class LiveApi:
    """The real API under uvicorn in a thread, on a loopback port."""

    settings: Settings
    url: str
    server: uvicorn.Server

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)

    def register(self, keys: KeyPair, event_url: str | None = None) -> dict[str, Any]:
        with self.client("test-admin-token") as c:
            body: dict[str, Any] = {"name": "test app", "public_key": keys.public_pem}
            if event_url:
                body["event_url"] = event_url
            response = c.post("/v1/applications", json=body)
            assert response.status_code == 201, response.text
            result: dict[str, Any] = response.json()
            return result

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while time.monotonic() < deadline:
                if c.get("/readyz").status_code == 200:
                    return
                time.sleep(0.1)
        raise AssertionError("the service never became ready")


@contextmanager
def live_api(settings: Settings, port: int, clock: Clock | None = None) -> Iterator[LiveApi]:
    app = create_app(settings, clock)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveApi(settings=settings, url=f"http://127.0.0.1:{port}", server=server)
    finally:
        server.should_exit = True
        thread.join(30)


def token_for(application_id: str, keys: KeyPair, **claims: Any) -> str:
    return mint_application_token(application_id, keys.private_pem, **claims)


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server on loopback that records every request and answers from a script."""

    statuses: list[int] = field(default_factory=list)  # answered in order, then 200
    requests: list[Received] = field(default_factory=list)
    url: str = ""
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                with receiver._lock:
                    receiver.requests.append(
                        Received(
                            self.command,
                            parts.path,
                            parts.query,
                            {k.lower(): v for k, v in self.headers.items()},
                            body,
                            time.monotonic(),
                        )
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = _handle
            do_GET = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/events"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(self, count: int, timeout: float = 120) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")


class BadReceiver:
    """A webhook receiver that answers 200 and then misbehaves with the body, on loopback:
    `huge` streams `size` bytes as fast as the caller reads them; `trickle` sends one byte a
    second (at most `size`) until the caller hangs up or `stop` is called. It counts the
    requests it got and the body bytes it managed to send."""

    def __init__(self, mode: Literal["huge", "trickle"], size: int) -> None:
        self.mode = mode
        self.size = size
        self.requests = 0
        self.sent = 0
        self.stopped = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                receiver._serve(self.request)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def url(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/events"

    def wait_for(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.requests < count:
            assert time.monotonic() < deadline, f"expected {count} requests, got {self.requests}"
            time.sleep(0.02)

    def stop(self) -> None:
        self.stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, connection: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = connection.recv(65536)
            if not chunk:
                return
            request += chunk
        head, _, body = request.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        while length and len(body) < int(length.group(1)):
            body += connection.recv(65536)
        with self._lock:
            self.requests += 1
        try:
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % self.size)
            if self.mode == "huge":
                self._stream(connection)
            else:
                self._trickle(connection)
        except OSError:
            pass  # the caller hung up

    def _stream(self, connection: socket.socket) -> None:
        chunk = bytes(64 * 1024)
        while self.sent < self.size and not self.stopped.is_set():
            connection.sendall(chunk)
            with self._lock:
                self.sent += len(chunk)

    def _trickle(self, connection: socket.socket) -> None:
        connection.settimeout(1.0)
        for _ in range(self.size):
            if self.stopped.is_set():
                return
            connection.sendall(b"x")
            with self._lock:
                self.sent += 1
            try:
                if connection.recv(1) == b"":
                    return  # the caller hung up
            except TimeoutError:
                continue


FRAME = 320  # 20 ms at 16 kHz


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


def two_legs(legs_url: str, token: str, caller: np.ndarray, callee: np.ndarray) -> None:
    """A caller and a callee on one conversation, talking at once in real time, then both
    hang up (a little silence after the longer of the two)."""
    until = time.monotonic() + max(len(caller), len(callee)) / 16000 + 0.3
    first = open_leg(legs_url, token)
    second = open_leg(legs_url, token)
    other = threading.Thread(target=stream, args=(second, callee, until))
    other.start()
    stream(first, caller, until)
    other.join()
    first.close()
    second.close()


def upload_recording(api: LiveApi, token: str, samples: np.ndarray, **fields: str) -> str:
    """POST /v1/transcriptions of `samples` as a 16 kHz WAV with these form fields; the
    new recording's uuid."""
    buffer = io.BytesIO()
    sf.write(buffer, samples, 16000, format="WAV")
    with api.client(token) as client:
        response = client.post(
            "/v1/transcriptions",
            files={"file": ("call.wav", buffer.getvalue(), "audio/wav")},
            data=fields,
        )
    assert response.status_code == 202, response.text
    return str(response.json()["recording_uuid"])


def wait_ready(
    url: str, server: subprocess.Popen[bytes] | None = None, timeout: float = 120
) -> None:
    """Until a service in a process of its own answers /readyz with 200 (its model loaded);
    fails at once if that process (`server`) exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server is None or server.poll() is None, "transcribe serve exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


def register_over_http(url: str, name: str = "test") -> str:
    """A token of a new application, registered with the admin token of a service in a
    process of its own (`TRANSCRIBE__ADMIN_TOKEN=test-admin-token`)."""
    keys = new_keypair()
    response = httpx.post(
        f"{url}/v1/applications",
        json={"name": name, "public_key": keys.public_pem},
        headers={"Authorization": "Bearer test-admin-token"},
    )
    assert response.status_code == 201, response.text
    return token_for(response.json()["id"], keys, ttl_s=3600)
