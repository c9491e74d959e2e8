"""Benchmark: our per-channel pipeline against naive faster-whisper on a 10-minute call.

Builds a two-channel call from the real clips in ../shared/data/speech (turns alternate
between the channels with pauses between them, so each channel is silent about 60% of the
time), then, each in a fresh child process so peak memory is its own:

- naive: `WhisperModel(model).transcribe(channel, word_timestamps=True)` on each channel in
  turn, default options (as a user who just installed faster-whisper would);
- ours: `Transcriber(settings).transcribe(audio)` with the configured settings.

Prints wall-clock seconds, the speed-up, real-time factors, WER of each (Whisper's English
normaliser, lower case, no punctuation), user and system CPU seconds of the run, model load
included, the child's start and its receiving the call (77 MB) not (and system as a share of
user: threads fighting over cores, or pages faulted in again and again, show there), peak RSS
and the load average. Run: `.venv/bin/python bench/asr.py`. The naive side runs with the
environment as it was before `transcribe` set its thread defaults (threads.py).

With `--jobs N` it measures many jobs at once instead: N different two-channel calls of
`--minutes` each, transcribed at the same time from N threads by one `Transcriber` (as N queue
consumers would), once with batching across jobs off and once on, each in a fresh child
process after a warm-up. Prints wall time, channel-audio seconds per second (and the
real-time factor), windows per decode batch, WER, peak RSS and, on CUDA where `nvidia-smi`
exists, the GPU memory used. E.g. `.venv/bin/python bench/asr.py --device cuda --jobs 8
--minutes 2`.
"""

from __future__ import annotations

import argparse
import csv
import functools
import multiprocessing as mp
import os
import resource
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
from whisper_normalizer.english import EnglishTextNormalizer

from transcribe.audio import SAMPLE_RATE, Audio, FloatArray, load_audio
from transcribe.config import cpu_count
from transcribe.threads import library_defaults

SPEECH_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"


@dataclass(frozen=True)
class Call:
    samples: FloatArray  # (2, frames)
    references: list[str]  # per channel

    @property
    def duration(self) -> float:
        return float(self.samples.shape[1] / SAMPLE_RATE)


@functools.cache
def speech_clips() -> list[tuple[str, FloatArray, str]]:
    """The clips calls are built from (every one but the AMI meetings) as (file name, 16 kHz
    mono samples, reference transcript), in the manifest's order."""
    with (SPEECH_DIR / "MANIFEST.tsv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if not r["file"].startswith("ami_")]
    return [
        (
            r["file"],
            load_audio(SPEECH_DIR / r["file"]).samples.mean(axis=0),
            r["reference_transcript"],
        )
        for r in rows
    ]


def _clips() -> list[tuple[FloatArray, str]]:
    return [(samples, reference) for _, samples, reference in speech_clips()]


def build_call(minutes: float, seed: int = 7) -> Call:
    """Alternating turns of real clips; pauses sized so speech fills ~80% of the call."""
    clips = _clips()
    # Clips in a shuffled cycle, turns alternating: with an odd number of clips each clip
    # lands on the other channel in the next cycle, so both channels get the same material.
    order = np.random.default_rng(seed).permutation(len(clips))
    total = round(minutes * 60 * SAMPLE_RATE)
    samples = np.zeros((2, total), np.float32)
    references: list[list[str]] = [[], []]
    position, turn = SAMPLE_RATE, 0
    pauses = np.random.default_rng(seed + 1)
    while True:
        clip, text = clips[order[turn % len(order)]]
        if position + len(clip) > total:
            break
        samples[turn % 2, position : position + len(clip)] = clip
        references[turn % 2].append(text)
        position += len(clip) + round(pauses.uniform(0.5, 2.5) * SAMPLE_RATE)
        turn += 1
    return Call(samples=samples, references=[" ".join(r) for r in references])


def _naive(samples: FloatArray, model_path: str, device: str) -> list[str]:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path, device=device)
    texts = []
    for channel in samples:
        segments, _ = model.transcribe(channel, word_timestamps=True)
        texts.append(" ".join(s.text for s in segments))
    return texts


def _ours(samples: FloatArray, device: str) -> list[str]:
    from transcribe.asr import Transcriber
    from transcribe.config import Settings

    settings = Settings()
    settings.asr.device = device  # type: ignore[assignment]
    transcriber = Transcriber(settings.asr)
    audio = Audio(samples=samples, source_rate=SAMPLE_RATE, source_format="WAV")
    doc = transcriber.transcribe(audio)
    return [" ".join(s.sentence for s in ch.transcript) for ch in doc.channels]


@dataclass(frozen=True)
class Run:
    seconds: float
    texts: list[str]
    peak_mb: float
    user_s: float  # CPU seconds of the run, model load included (not the child's start)
    system_s: float


def _child(kind: str, samples: FloatArray, model_path: str, device: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    texts = _naive(samples, model_path, device) if kind == "naive" else _ours(samples, device)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    user, system = usage.ru_utime - before.ru_utime, usage.ru_stime - before.ru_stime
    out.put((seconds, texts, usage.ru_maxrss / 1024, user, system))


def measure(kind: str, call: Call, model_path: str, device: str) -> Run:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(kind, call.samples, model_path, device, queue))
    ours = {name: os.environ.pop(name) for name in library_defaults if kind == "naive"}
    try:
        process.start()  # the child inherits the environment as it is now
    finally:
        os.environ.update(ours)
    result: tuple[float, list[str], float, float, float] = queue.get()
    process.join()
    return Run(*result)


class GpuMemory:
    """Peak memory used on each GPU while running, by polling `nvidia-smi` (CTranslate2 has no
    memory API); `None` where there is no nvidia-smi."""

    def __init__(self, interval: float = 0.25) -> None:
        self.available = shutil.which("nvidia-smi") is not None
        self.interval = interval
        self.before = self._read()
        self.peak = dict(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _read(self) -> dict[str, int]:
        if not self.available:
            return {}
        result = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,memory.used", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            check=False,
        )
        used = {}
        for line in result.stdout.splitlines():
            index, _, mib = line.partition(",")
            if mib.strip().isdigit():
                used[index.strip()] = int(mib)
        return used

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            for index, mib in self._read().items():
                self.peak[index] = max(self.peak.get(index, 0), mib)

    def __enter__(self) -> GpuMemory:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def summary(self) -> str | None:
        """The GPU that grew most: its peak, and how much of that this run added."""
        if not self.peak:
            return None
        index = max(self.peak, key=lambda i: self.peak[i] - self.before.get(i, 0))
        grown = self.peak[index] - self.before.get(index, 0)
        return f"GPU {index} memory peak {self.peak[index]} MiB (+{grown} MiB)"


def _jobs_child(
    mode: str,
    minutes: float,
    jobs: int,
    device: str,
    workers: int,
    out: mp.Queue,  # type: ignore[type-arg]
) -> None:
    from transcribe.asr import Transcriber
    from transcribe.config import Settings

    calls = [build_call(minutes, seed=7 + job) for job in range(jobs)]
    audios = [Audio(samples=c.samples, source_rate=SAMPLE_RATE, source_format="WAV") for c in calls]
    settings = Settings()
    settings.asr.device = device  # type: ignore[assignment]
    settings.asr.batch_across_jobs = mode  # type: ignore[assignment]
    settings.asr.workers = workers
    with GpuMemory() as gpu:
        transcriber = Transcriber(settings.asr)
        warm_samples = calls[0].samples[:, : 30 * SAMPLE_RATE]
        warm = Audio(samples=warm_samples, source_rate=SAMPLE_RATE, source_format="WAV")
        transcriber.transcribe(warm)
        before = transcriber.stats.snapshot()
        start = threading.Barrier(jobs)

        def run(audio: Audio) -> list[str]:
            start.wait()
            doc = transcriber.transcribe(audio)
            return [" ".join(s.sentence for s in ch.transcript) for ch in doc.channels]

        started = time.perf_counter()
        with ThreadPoolExecutor(jobs) as pool:
            texts = list(pool.map(run, audios))
        seconds = time.perf_counter() - started
        after = transcriber.stats.snapshot()
        transcriber.close()
    stats = {k: after[k] - before[k] for k in ("calls", "batches", "windows", "mixed_batches")}
    stats["max_requests_per_batch"] = after["max_requests_per_batch"]
    out.put(
        {
            "seconds": seconds,
            "texts": texts,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "stats": stats,
            "gpu": gpu.summary(),
            "runtime": transcriber.runtime,
        }
    )


def measure_jobs(mode: str, minutes: float, jobs: int, device: str, workers: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    args = (mode, minutes, jobs, device, workers, queue)
    process = ctx.Process(target=_jobs_child, args=args)
    process.start()
    result: dict[str, Any] = queue.get()
    process.join()
    return result


def main_jobs(args: argparse.Namespace) -> None:
    """N calls at once, batching across jobs off and on."""
    calls = [build_call(args.minutes, seed=7 + job) for job in range(args.jobs)]
    audio_seconds = sum(c.duration * c.samples.shape[0] for c in calls)
    print(
        f"{args.jobs} calls of {calls[0].duration:.0f} s, 2 channels each, transcribed at once "
        f"({audio_seconds:.0f} s of channel audio); device {args.device}",
        flush=True,
    )
    normalise = EnglishTextNormalizer()
    refs = [normalise(r) for c in calls for r in c.references]
    walls = {}
    for mode in ("off", "on"):
        result = measure_jobs(mode, args.minutes, args.jobs, args.device, args.workers)
        runtime, stats = result["runtime"], result["stats"]
        hyps = [normalise(t) for texts in result["texts"] for t in texts]
        seconds = walls[mode] = result["seconds"]
        per_batch = stats["windows"] / stats["batches"] if stats["batches"] else 0.0
        line = (
            f"batching {mode:>3} ({runtime.device}/{runtime.compute_type}, "
            f"{runtime.workers} channel threads per job, {runtime.model_workers} model workers "
            f"x {runtime.cpu_threads} threads): {seconds:6.1f} s wall, "
            f"{audio_seconds / seconds:6.1f} audio-s/s (real-time factor "
            f"{seconds / audio_seconds:.4f}), {per_batch:.1f} windows per batch "
            f"({stats['windows']} windows in {stats['batches']} batches of {stats['calls']} "
            f"calls, {stats['mixed_batches']} batches shared by channels, at most "
            f"{stats['max_requests_per_batch']}), WER {jiwer.wer(refs, hyps):.2%}, "
            f"peak RSS {result['peak_mb']:.0f} MB"
        )
        if result["gpu"]:
            line += f", {result['gpu']}"
        print(line, flush=True)
    print(f"batching across jobs: {walls['off'] / walls['on']:.2f}x the throughput of off")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of each call")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    parser.add_argument(
        "--jobs", type=int, default=0, help="N calls at once, batching across jobs off vs on"
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="channel threads per job (--jobs; 0: default)"
    )
    args = parser.parse_args()
    if args.jobs:
        main_jobs(args)
        return

    from transcribe.asr.models import resolve_model
    from transcribe.config import Settings

    model_path = resolve_model(Settings().asr).path
    call = build_call(args.minutes)
    silent = [(np.abs(ch) < 1e-4).mean() for ch in call.samples]
    print(
        f"call: {call.duration:.0f} s, 2 channels, silent {silent[0]:.0%} / {silent[1]:.0%}; "
        f"model {model_path}; device {args.device}",
        flush=True,
    )
    normalise = EnglishTextNormalizer()
    refs = [normalise(r) for r in call.references]
    results = {}
    for kind in ("naive", "ours"):
        load = os.getloadavg()[0]
        run = measure(kind, call, model_path, args.device)
        error = jiwer.wer(refs, [normalise(t) for t in run.texts])
        results[kind] = run.seconds
        print(
            f"{kind:>5}: {run.seconds:7.1f} s wall, real-time factor "
            f"{run.seconds / call.duration:.4f} ({call.duration / run.seconds:.1f}x real time), "
            f"WER {error:.2%}, CPU user {run.user_s:.1f} s system {run.system_s:.1f} s "
            f"({run.system_s / run.user_s:.0%} of user), peak RSS {run.peak_mb:.0f} MB, "
            f"load {load:.2f} at start",
            flush=True,
        )
    print(
        f"speed-up: {results['naive'] / results['ours']:.2f}x faster than naive "
        f"({cpu_count()} cores; load {os.getloadavg()[0]:.2f} at the end)"
    )


if __name__ == "__main__":
    main()
