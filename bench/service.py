"""Benchmark: live legs in real time, and transcription_url fetch latency, on loopback.

Starts `transcribe serve` in its own process (a fresh data dir, SQLite) and drives it from
this one, both on the same machine. The load generator is deliberately thin so that the
figures measure the server, not the client: raw asyncio transports on uvloop, WebSocket
frames and HTTP requests built once up front and written as bytes. Both the generator's and
the server's CPU use are printed for every figure.

1. Live legs. For each load level and format, N legs (N/2 two-leg conversations recorded
   split, in MP3, Vonage's default, then WAV) stream real speech in 20 ms binary frames at
   real-time pace for `--seconds`. Each frame is a complete client WebSocket frame with an
   all-zero masking key (valid per RFC 6455, and the payload needs no masking work), written
   with one `write` call; the legs are spread over four 5 ms phases of the 20 ms cycle. The
   service measures how far behind real time each leg's audio was when the recorder took it
   (`transcribe_live_leg_lag_seconds`); a level passes when no hand-over was more than
   100 ms behind. The generator's own worst lateness in sending is printed too: if it is
   large, the generator, not the service, was the bottleneck. After each level it waits
   until every recording is stored in its format (live calls record WAV; MP3 is encoded by
   a queue job after the call) and prints how long that took and the CPU it used. Then a
   back-to-back round (`--back-to-back`, default 200 legs): one round, and at once another
   while the first one's recordings are being encoded, so encoding competes with live legs.
2. Fetches, closed loop. 50 keep-alive HTTP/1.1 connections each send a GET for one
   transcription document through `transcription_url` with a JWT, read the answer (headers,
   then Content-Length bytes) and send the next at once, for `--fetch-seconds`; prints
   requests/s and p50/p99/max latency (write of the request to the last byte of the answer).
3. Fetches, open loop (`--open-rate`, default 500/s; 0 skips it): the same requests sent at a
   fixed rate over the 50 connections (a request waits for a free connection if all are busy,
   and that wait counts), so latency is not shaped by how fast answers come back. Labelled
   as such; the closed-loop figure above is the one the target is about.

Run: `.venv/bin/python bench/service.py` (about five minutes). Note the machine's load
(`uptime`) with the figures: the generator and the server share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import httpx
import numpy as np
import soundfile as sf
import uvloop
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from transcribe.audio import to_int16
from transcribe.auth import mint_application_token

SPEECH = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"
FRAME_S = 0.02
PHASES = 4  # legs are spread over this many slots of the 20 ms cycle
LATE_S = 0.1
CLIENTS = 50


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


def start_server(data_dir: Path, port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TRANSCRIBE__DATA_DIR": str(data_dir),
        "TRANSCRIBE__ADMIN_TOKEN": "bench",
        "TRANSCRIBE__PUBLIC_URL": f"http://127.0.0.1:{port}",
        "TRANSCRIBE__ASR__DEVICE": "cpu",
    }
    log = (data_dir / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "transcribe", "serve", "--port", str(port), *extra],
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


class Cpu:
    """CPU seconds used by this process and by the server (and its children) over a span."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.ticks = os.sysconf("SC_CLK_TCK")
        self._start = self._now()

    def _server_seconds(self) -> float:
        total = 0.0
        pids = [self.server_pid]
        children = Path(f"/proc/{self.server_pid}/task/{self.server_pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / self.ticks  # utime, stime
        return total

    def _now(self) -> tuple[float, float, float]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return time.monotonic(), usage.ru_utime + usage.ru_stime, self._server_seconds()

    def report(self) -> str:
        wall, mine, server = (b - a for a, b in zip(self._start, self._now(), strict=True))
        return (
            f"CPU: server {server / wall * 100:.0f}%, load generator {mine / wall * 100:.0f}% "
            f"(of one core, over {wall:.1f} s)"
        )


def all_stored(url: str, token: str) -> bool:
    """No recording is still being recorded, waiting to be encoded or being encoded."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
        for status in ("recording", "queued", "rendering"):
            if c.get("/v1/recordings", params={"status": status, "limit": 1}).json()["items"]:
                return False
    return True


def lag_counts(url: str) -> tuple[float, float]:
    """(hand-overs in all, hand-overs more than LATE_S behind) from /metrics."""
    total = within = 0.0
    for line in httpx.get(f"{url}/metrics").text.splitlines():
        if line.startswith("transcribe_live_leg_lag_seconds_count"):
            total = float(line.split()[-1])
        if line.startswith('transcribe_live_leg_lag_seconds_bucket{le="0.1"}'):
            within = float(line.split()[-1])
    return total, total - within


# -- WebSocket legs -------------------------------------------------------------------------


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final client frame with the all-zero masking key: masked bytes equal the payload."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + b"\0\0\0\0" + payload


@dataclass
class Socket:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    offset: int  # where in the speech this leg starts, in frames


async def open_leg(url: str, token: str, offset: int) -> Socket:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"the WebSocket handshake failed: {head[:200]!r}")
    connected = {"event": "websocket:connected", "content-type": "audio/l16;rate=16000"}
    writer.write(client_frame(0x1, json.dumps(connected).encode()))
    return Socket(reader, writer, offset)


async def stream_legs(sockets: list[Socket], frames: list[bytes], seconds: float) -> float:
    """Send every leg a frame every 20 ms (legs spread over PHASES slots) for `seconds`; returns
    the worst lateness of a send against its schedule."""
    groups = [sockets[k::PHASES] for k in range(PHASES)]
    slot = FRAME_S / PHASES
    start = time.perf_counter() + 0.05
    worst = 0.0
    for k in range(int(seconds / FRAME_S) * PHASES):
        due = start + k * slot
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        worst = max(worst, time.perf_counter() - due)
        n = k // PHASES
        for socket in groups[k % PHASES]:
            socket.writer.write(frames[(n + socket.offset) % len(frames)])
    return worst


async def hang_up(socket: Socket) -> None:
    socket.writer.write(client_frame(0x8, struct.pack("!H", 1000)))
    try:
        while await socket.reader.read(65536):
            pass
    finally:
        socket.writer.close()


async def live_level(
    base: str, token: str, legs: int, seconds: float, frames: list[bytes], file_format: str
) -> float:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
        urls = []
        for _ in range(legs // 2):
            record = {"action": "record", "split": "conversation", "format": file_format}
            body = {"ncco": [record]}
            urls.append((await c.post("/v1/conversations", json=body)).json()["legs_url"])
    sockets = []
    for k, url in enumerate(u for u in urls for _ in range(2)):
        sockets.append(await open_leg(url, token, offset=(k * 37) % len(frames)))
    late = await stream_legs(sockets, frames, seconds)
    await asyncio.gather(*(hang_up(s) for s in sockets))
    return late


# -- HTTP fetches ------------------------------------------------------------------------


class Fetcher(asyncio.Protocol):
    """One keep-alive connection: sends the request, reads the answer by Content-Length."""

    def __init__(self, request: bytes, latencies: list[float], idle: collections.deque[Fetcher]):
        self.request = request
        self.latencies = latencies
        self.idle = idle
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.need = -1
        self.sent = 0.0
        self.free = asyncio.Event()
        self.error: str | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.idle.append(self)
        self.free.set()

    def send(self, at: float | None = None) -> None:
        """Send the request; latency counts from `at` (its scheduled time) or from now."""
        assert self.transport is not None
        self.free.clear()
        self.sent = time.perf_counter() if at is None else at
        self.buffer.clear()
        self.need = -1
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.need < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            if not head.startswith(b"http/1.1 200"):
                self.error = head.split(b"\r\n", 1)[0].decode()
            at = head.find(b"\r\ncontent-length:")
            length = int(head[at + 17 : head.find(b"\r\n", at + 2)]) if at >= 0 else 0
            self.need = end + 4 + length
        if len(self.buffer) >= self.need:
            self.latencies.append(time.perf_counter() - self.sent)
            self.idle.append(self)
            self.free.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.error = self.error or f"connection lost: {exc}"
        self.free.set()


async def connect_fetchers(url: str, token: str, latencies: list[float]) -> list[Fetcher]:
    parts = urlsplit(url)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    idle: collections.deque[Fetcher] = collections.deque()
    fetchers = []
    for _ in range(CLIENTS):
        _, fetcher = await loop.create_connection(
            lambda: Fetcher(request, latencies, idle), parts.hostname or "", parts.port or 80
        )
        fetchers.append(fetcher)
    idle.clear()
    return fetchers


async def closed_loop(url: str, token: str, seconds: float) -> list[float]:
    latencies: list[float] = []
    fetchers = await connect_fetchers(url, token, latencies)
    stop = time.monotonic() + seconds

    async def client(fetcher: Fetcher) -> None:
        while time.monotonic() < stop:
            fetcher.send()
            await fetcher.free.wait()
            if fetcher.error:
                raise SystemExit(f"a fetch failed: {fetcher.error}")

    await asyncio.gather(*(client(f) for f in fetchers))
    for fetcher in fetchers:
        assert fetcher.transport is not None
        fetcher.transport.close()
    return latencies


async def open_loop(url: str, token: str, seconds: float, rate: float) -> tuple[list[float], int]:
    """Requests sent at `rate` per second on schedule; returns latencies (from each request's
    scheduled time) and how many requests had to wait for a free connection."""
    latencies: list[float] = []
    fetchers = await connect_fetchers(url, token, latencies)
    idle = fetchers[0].idle
    idle.extend(fetchers)
    waited = 0
    start = time.perf_counter() + 0.05
    for k in range(int(seconds * rate)):
        due = start + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if not idle:
            waited += 1
            while not idle:
                await asyncio.sleep(0.0005)
        fetcher = idle.popleft()
        if fetcher.error:
            raise SystemExit(f"a fetch failed: {fetcher.error}")
        fetcher.send(at=due)
    for fetcher in fetchers:
        await fetcher.free.wait()
        assert fetcher.transport is not None
        fetcher.transport.close()
    return latencies, waited


def summary(latencies: list[float], seconds: float) -> str:
    latencies = sorted(latencies)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return (
        f"{len(latencies)} requests ({len(latencies) / seconds:.0f}/s), p50 {p50 * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


def live_round(
    server: subprocess.Popen[bytes],
    base: str,
    token: str,
    legs: int,
    seconds: float,
    frames: list[bytes],
    file_format: str,
    wait: bool = True,
) -> tuple[str, bool]:
    """Stream `legs` legs for `seconds`; then (with `wait`) wait until every recording is
    stored in its format. Returns a line to print and whether no hand-over was late."""
    before = lag_counts(base)
    cpu = Cpu(server.pid)
    client_late = uvloop.run(live_level(base, token, legs, seconds, frames, file_format))
    used = cpu.report()
    stored = ""
    if wait:
        ended = time.monotonic()
        cpu = Cpu(server.pid)
        while not all_stored(base, token):
            time.sleep(0.1)
        stored = (
            f"\n         all stored as {file_format} {time.monotonic() - ended:.1f} s after the "
            f"calls ended ({cpu.report()})"
        )
    after = lag_counts(base)
    handovers, late = after[0] - before[0], after[1] - before[1]
    line = (
        f"{int(handovers):6d} hand-overs, {int(late):5d} more than {LATE_S * 1000:.0f} ms "
        f"behind; generator worst send delay {client_late * 1000:.0f} ms -> "
        f"{'ok' if late == 0 else 'LATE'}; {used}; load {os.getloadavg()[0]:.2f}{stored}"
    )
    return line, late == 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--levels", default="100,200,250,300,350,400,450,500")
    parser.add_argument("--formats", default="mp3,wav", help="recording formats to try")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fetch-seconds", type=float, default=10.0)
    parser.add_argument("--open-rate", type=float, default=500.0, help="0: no open-loop run")
    parser.add_argument("--port", type=int, default=8931)
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument(
        "--back-to-back",
        type=int,
        default=200,
        help="legs for a round streamed while the round before is being encoded (0: skip)",
    )
    parser.add_argument("--serve-arg", action="append", default=[], help="passed to serve")
    args = parser.parse_args()

    speech = np.concatenate(
        [sf.read(SPEECH / f, dtype="float32")[0] for f in ("jfk.wav", "goforward.wav")]
    )
    pcm = to_int16(speech).tobytes()
    step = int(16000 * FRAME_S) * 2
    frames = [client_frame(0x2, pcm[i : i + step]) for i in range(0, len(pcm) - step + 1, step)]
    base = f"http://127.0.0.1:{args.port}"
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), args.port, args.serve_arg)
        try:
            private, public = keypair()
            app = httpx.post(
                f"{base}/v1/applications",
                json={"name": "bench", "public_key": public},
                headers={"Authorization": "Bearer bench"},
            ).json()
            token = mint_application_token(app["id"], private, ttl_s=3600)

            for file_format in [] if args.skip_live else args.formats.split(","):
                print(
                    f"live legs, {args.seconds:g} s each, 20 ms frames, split {file_format} "
                    "recordings:"
                )
                best = 0
                for legs in [int(x) for x in args.levels.split(",") if x]:
                    line, ok = live_round(
                        server, base, token, legs, args.seconds, frames, file_format
                    )
                    print(f"  {legs:4d} legs: {line}", flush=True)
                    if not ok:
                        break
                    best = legs
                print(f"  most concurrent legs with no hand-over late by > 100 ms: {best}")
            if args.back_to_back and not args.skip_live:
                legs, file_format = args.back_to_back, args.formats.split(",")[0]
                print(
                    f"back to back: {legs} legs ({file_format}), then {legs} more legs at once "
                    "while the first calls' recordings are encoded:"
                )
                line, _ = live_round(
                    server, base, token, legs, args.seconds, frames, file_format, wait=False
                )
                print(f"  first {legs} legs: {line}", flush=True)
                line, _ = live_round(server, base, token, legs, args.seconds, frames, file_format)
                print(f"  next {legs} legs: {line}", flush=True)

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
            cpu = Cpu(server.pid)
            latencies = uvloop.run(closed_loop(target, token, args.fetch_seconds))
            print(
                f"transcription_url fetches, closed loop, {CLIENTS} keep-alive clients as fast "
                f"as answers come, {args.fetch_seconds:g} s: "
                f"{summary(latencies, args.fetch_seconds)}; {cpu.report()}; "
                f"load {os.getloadavg()[0]:.2f}",
                flush=True,
            )
            if args.open_rate > 0:
                cpu = Cpu(server.pid)
                latencies, waited = uvloop.run(
                    open_loop(target, token, args.fetch_seconds, args.open_rate)
                )
                print(
                    f"transcription_url fetches, OPEN loop at a fixed {args.open_rate:g}/s over "
                    f"{CLIENTS} connections, {args.fetch_seconds:g} s: "
                    f"{summary(latencies, args.fetch_seconds)} ({waited} waits for a free "
                    f"connection); {cpu.report()}; load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
        finally:
            server.terminate()
            server.wait(30)


if __name__ == "__main__":
    main()
