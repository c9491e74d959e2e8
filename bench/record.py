"""Benchmark: the recording engine's render speed per format, CPU per leg-second, peak memory.

1. A two-leg call of `--minutes` (default 60) built from the real clips in ../shared/data/speech
   (turns alternating between the legs with pauses, -50 dBFS line noise on both), written as
   two 16 kHz WAV leg files, then rendered with `render_files` (the path `transcribe record`
   and uploads take: decode, place, mix, encode, write) in each format, mono and split, and
   once more with endOnSilence and endOnKey armed (detectors on, never firing), and once fed
   as live sockets would feed it (20 ms frames of PCM bytes, one `write` each). Speed is audio
   seconds per wall second and per CPU second (this process's user + system time, so it is the
   single-core figure even on a busy machine); CPU per leg-second divides by both legs.
2. A `--memory-hours` (default 2) call of `--memory-legs` (default 32) legs rendered into
   `channels: 32` WAV in a child process whose peak RSS (VmHWM) is reported: each leg
   talks in turn over its own line noise, generated block by block, so only the engine holds
   audio. The 7.4 GB file is deleted afterwards.

Run: `.venv/bin/python bench/record.py` (about 10 minutes on one core; `--minutes 10` for a
quick look).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from transcribe.audio import SAMPLE_RATE, FloatArray, load_audio, stream_audio
from transcribe.ncco import parse_record
from transcribe.recording import LegFile, LegSource, Recorder, render, render_files

SPEECH_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"
NOISE_DBFS = -50.0
BLOCK = SAMPLE_RATE  # one second


def load_clips() -> list[FloatArray]:
    with (SPEECH_DIR / "MANIFEST.tsv").open(newline="") as f:
        names = [row["file"] for row in csv.DictReader(f, delimiter="\t")]
    return [load_audio(SPEECH_DIR / name).samples.mean(axis=0).astype(np.float32) for name in names]


def write_call(folder: Path, minutes: float, clips: list[FloatArray]) -> list[Path]:
    """Two leg files of alternating turns, written five minutes at a time."""
    rng = np.random.default_rng(3)
    pattern_len = 5 * 60 * SAMPLE_RATE
    patterns = [np.zeros(pattern_len, np.float32) for _ in range(2)]
    position, turn = SAMPLE_RATE, 0
    while True:
        clip = clips[int(rng.integers(len(clips)))]
        if position + len(clip) > pattern_len:
            break
        patterns[turn][position : position + len(clip)] += clip
        position += len(clip) + int(rng.uniform(0.3, 1.5) * SAMPLE_RATE)
        turn = 1 - turn
    paths = []
    for k, pattern in enumerate(patterns):
        pattern += rng.standard_normal(pattern_len).astype(np.float32) * 10 ** (NOISE_DBFS / 20)
        path = folder / f"leg{k + 1}.wav"
        with sf.SoundFile(path, "w", SAMPLE_RATE, 1, subtype="PCM_16") as f:
            for _ in range(round(minutes / 5)):
                f.write(pattern)
        paths.append(path)
    return paths


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def time_renders(legs: list[Path], out_dir: Path) -> None:
    cases: list[tuple[str, dict[str, str | int]]] = []
    for layout, split in (("mono", {}), ("split", {"split": "conversation"})):
        for fmt in ("wav", "mp3", "ogg"):
            cases.append((f"{fmt:<4} {layout}", {**split, "format": fmt}))
    armed: dict[str, str | int] = {"split": "conversation", "format": "wav"}
    armed |= {"endOnSilence": 10, "endOnKey": "#"}
    cases.append(("wav  split + endOnSilence/endOnKey", armed))
    print(f"{'case':<36}{'audio s':>9}{'wall s':>9}{'x real time':>13}{'x per CPU s':>13}"
          f"{'CPU ms per leg-s':>18}{'MB':>8}")  # fmt: skip
    for name, options in cases:
        out = out_dir / f"bench.{options['format']}"
        wall, cpu = time.perf_counter(), cpu_seconds()
        result = render_files(parse_record(options), [LegFile(p) for p in legs], out)
        wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
        audio = result.duration
        print(
            f"{name:<36}{audio:>9.0f}{wall:>9.1f}{audio / wall:>13.0f}{audio / cpu:>13.0f}"
            f"{1000 * cpu / (audio * len(legs)):>18.3f}{result.size / 1e6:>8.1f}"
        )
        out.unlink()


def time_live(legs: list[Path], out_dir: Path) -> None:
    """The same call as live sockets deliver it: 20 ms frames of 16-bit PCM bytes, legs taking
    turns frame by frame, each frame written as it comes (the service's path)."""
    recorder = Recorder(parse_record({"split": "conversation", "format": "wav"}), out_dir / "l.wav")
    live = [recorder.add_leg(f"leg{k}", SAMPLE_RATE, 0.0) for k in range(len(legs))]
    streams = [stream_audio(path) for path in legs]
    frame = SAMPLE_RATE // 50
    wall, cpu, frames = time.perf_counter(), cpu_seconds(), 0
    for blocks in zip(*streams, strict=False):
        pcm = [(block[:, 0] * 32768).astype("<i2") for block in blocks]
        for start in range(0, min(len(p) for p in pcm), frame):
            for leg, samples in zip(live, pcm, strict=True):
                leg.write(samples[start : start + frame].tobytes())
                frames += 1
    result = recorder.finish()
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    audio = result.duration
    print(
        f"{'wav  split, live 20 ms frames':<36}{audio:>9.0f}{wall:>9.1f}{audio / wall:>13.0f}"
        f"{audio / cpu:>13.0f}{1000 * cpu / (audio * len(legs)):>18.3f}{result.size / 1e6:>8.1f}"
        f"   ({1e6 * cpu / frames:.0f} us CPU per frame)"
    )
    (out_dir / "l.wav").unlink()


def talking_leg(
    k: int, legs: int, seconds: float, clips: list[FloatArray], noise: FloatArray
) -> Iterator[FloatArray]:
    """Leg k's audio, one second at a time: its line noise, and a clip whenever its turn comes
    (every `legs` turns of 4 s). Made on the fly so the generator holds no call-length audio."""
    total = round(seconds * SAMPLE_RATE)
    cycle = legs * 4 * SAMPLE_RATE
    for start in range(0, total, BLOCK):
        n = min(BLOCK, total - start)
        offset = (start + k * 9973) % (len(noise) - BLOCK)
        block = noise[offset : offset + n].copy()
        turn = (start - k * 4 * SAMPLE_RATE) % cycle  # samples since this leg's turn began
        clip = clips[(start // cycle + k) % len(clips)]
        if turn < len(clip):
            piece = clip[turn : turn + n]
            block[: len(piece)] += piece
        yield block


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (the peak) of this process. Not ru_maxrss: Linux carries that over
    exec from the parent, so a child started by a big parent would report the parent's peak."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def memory_child(hours: float, legs: int, out: Path) -> None:
    clips = load_clips()
    noise = np.random.default_rng(5).standard_normal(10 * SAMPLE_RATE).astype(np.float32)
    noise *= 10 ** (NOISE_DBFS / 20)
    before = rss_mb("VmRSS")
    sources = [
        LegSource(talking_leg(k, legs, hours * 3600, clips, noise), offset=0.5 * k)
        for k in range(legs)
    ]
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = render(parse_record({"channels": legs, "format": "wav"}), sources, out)
    wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
    peak = rss_mb("VmHWM")
    summary = {
        "legs": legs,
        "duration_s": result.duration,
        "channels": result.channels,
        "file_gb": round(result.size / 1e9, 2),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "rss_before_render_mb": round(before),
        "peak_rss_mb": round(peak),
    }
    out.unlink()
    print(json.dumps(summary))


def measure_memory(hours: float, legs: int, out_dir: Path) -> None:
    command = [
        sys.executable,
        __file__,
        "--memory-child",
        "--memory-hours",
        str(hours),
        "--memory-legs",
        str(legs),
        "--out-dir",
        str(out_dir),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    print(
        f"{summary['legs']} legs x {summary['duration_s'] / 3600:.2f} h into "
        f"{summary['channels']} channels ({summary['file_gb']} GB WAV): "
        f"peak RSS {summary['peak_rss_mb']} MB "
        f"({summary['rss_before_render_mb']} MB resident before rendering: Python, numpy, "
        "the clips); "
        f"{summary['wall_s']} s wall, {summary['cpu_s']} s CPU, "
        f"{summary['duration_s'] * summary['legs'] / summary['cpu_s']:.0f} leg-seconds per CPU s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--memory-hours", type=float, default=2)
    parser.add_argument("--memory-legs", type=int, default=32)
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--out-dir", type=Path, default=None, help="where files go (a tmp dir)")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.out_dir) as tmp:
        folder = Path(tmp)
        if args.memory_child:
            memory_child(args.memory_hours, args.memory_legs, folder / "memory.wav")
            return
        print(f"recording engine benchmark, pid {os.getpid()}, {os.cpu_count()} CPUs\n")
        if not args.skip_speed:
            legs = write_call(folder, args.minutes, load_clips())
            print(
                f"two-leg call, {args.minutes:.0f} min, 16 kHz WAV legs, rendered by render_files"
            )
            time_renders(legs, folder)
            time_live(legs, folder)
            print()
        if not args.skip_memory:
            measure_memory(args.memory_hours, args.memory_legs, folder)


if __name__ == "__main__":
    main()
