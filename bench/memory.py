"""Benchmark: peak memory of `transcribe serve` while a long, wide upload is transcribed.

Issue 14 item 1: a 2-hour 32-channel upload must be transcribed in under 1.5 GB (tiny.en,
CPU). The file is OGG Vorbis at 8 kHz, the telephone rate: WAV of that size would be 3.7 GB,
over the upload limit; FLAC holds at most 8 channels; Vorbis encodes twice as fast at 8 kHz as
at 16 kHz, and the service resamples to 16 kHz, so what it holds is the same. Every channel is
silence except one real speech clip (`jfk.wav`, 11 s) placed at a different minute in each
channel, so the job decodes the whole file, runs VAD over all of it and transcribes 32 short
stretches of speech.

The server runs in its own process (fresh data dir, SQLite, the embedded workers). The script
samples its resident memory (VmRSS) every 0.2 s and reads its high-water mark (VmHWM, reset
through /proc/PID/clear_refs before the upload) and prints: idle, peak during the upload's
request, peak until the `transcribed` webhook, the wall time, and how many channels came back
with the clip's words.

Run: `.venv/bin/python bench/memory.py` (2 h x 32 channels: writing the file takes about 10
minutes on 2 cores, once, kept in the temporary folder; the transcription about 17);
`--minutes 10` for a quick look.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import soundfile as sf
import soxr

from hostile import Receivers, Server
from service import SPEECH

RATE = 8_000


def write_call(path: Path, minutes: int, channels: int) -> None:
    """Silence everywhere but one clip per channel, written a minute at a time."""
    clip = soxr.resample(sf.read(SPEECH / "jfk.wav", dtype="float32")[0], 16_000, RATE)
    block = RATE * 60
    with sf.SoundFile(path, "w", RATE, channels, format="OGG", subtype="VORBIS") as f:
        for minute in range(minutes):
            samples = np.zeros((block, channels), np.float32)
            for channel in range(channels):
                if channel * minutes // channels == minute:  # spread over the call
                    samples[RATE : RATE + len(clip), channel] = clip * 0.5
            f.write(samples)


def rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=120, help="length of the call")
    parser.add_argument("--channels", type=int, default=32, help="channels of the call")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} (1 min), {os.cpu_count()} cores")
    receivers = Receivers()
    with tempfile.TemporaryDirectory() as tmp:
        # Encoding 32 channels of Vorbis takes minutes: the file is kept for the next run.
        call = Path(tempfile.gettempdir()) / f"bench-memory-{args.minutes}x{args.channels}.ogg"
        if not call.exists():
            started = time.monotonic()
            write_call(call.with_suffix(".part"), args.minutes, args.channels)
            call.with_suffix(".part").rename(call)
            print(f"call written in {time.monotonic() - started:.0f} s")
        print(
            f"call: {args.minutes} min x {args.channels} channels, OGG "
            f"{call.stat().st_size / 1e6:.1f} MB ({call})"
        )
        server = Server(Path(tmp))
        try:
            token = server.register(f"{receivers.url}/ok")
            pid = server.process.pid
            print(f"idle: RSS {rss_mb(pid, 'VmRSS'):.0f} MB")
            server.reset_peak()
            samples: list[float] = []
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    samples.append(rss_mb(pid, "VmRSS"))
                    time.sleep(0.2)

            threading.Thread(target=sample, daemon=True).start()
            started = time.monotonic()
            response = server.upload(token, "call.ogg", call.read_bytes())
            response.raise_for_status()
            uuid = response.json()["recording_uuid"]
            print(
                f"upload answered {response.status_code} in {time.monotonic() - started:.1f} s, "
                f"peak RSS so far {server.peak_mb():.0f} MB"
            )
            while uuid not in receivers.events:
                time.sleep(0.5)
            wall = receivers.events[uuid] - started
            done.set()
            auth = {"Authorization": f"Bearer {token}"}
            recording = httpx.get(f"{server.url}/v1/recordings/{uuid}", headers=auth).json()
            document = httpx.get(
                recording["transcription"]["transcription_url"], headers=auth, timeout=60
            ).json()
            heard = sum(
                "country" in " ".join(s["sentence"] for s in channel["transcript"]).lower()
                for channel in document["channels"]
            )
            print(
                f"transcribed in {wall:.0f} s: peak RSS {server.peak_mb():.0f} MB "
                f"(sampled: median {np.median(samples):.0f} MB, max {max(samples):.0f} MB); "
                f"{heard} of {args.channels} channels carry the clip's words"
            )
        finally:
            server.process.terminate()
            server.process.wait(30)


if __name__ == "__main__":
    main()
