"""Benchmark: our per-channel pipeline against naive faster-whisper on a 10-minute call.

Builds a two-channel call from the real clips in ../shared/data/speech (turns alternate
between the channels with pauses between them, so each channel is silent about 60% of the
time), then, each in a fresh child process so peak memory is its own:

- naive: `WhisperModel(model).transcribe(channel, word_timestamps=True)` on each channel in
  turn, default options (as a user who just installed faster-whisper would);
- ours: `Transcriber(settings).transcribe(audio)` with the configured settings.

Prints wall-clock seconds, the speed-up, real-time factors, WER of each (Whisper's English
normaliser, lower case, no punctuation) and peak RSS. Run: `.venv/bin/python bench/asr.py`.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import jiwer
import numpy as np
from whisper_normalizer.english import EnglishTextNormalizer

from transcribe.audio import SAMPLE_RATE, Audio, FloatArray, load_audio

SPEECH_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"


@dataclass(frozen=True)
class Call:
    samples: FloatArray  # (2, frames)
    references: list[str]  # per channel

    @property
    def duration(self) -> float:
        return float(self.samples.shape[1] / SAMPLE_RATE)


def build_call(minutes: float, seed: int = 7) -> Call:
    """Alternating turns of real clips; pauses sized so speech fills ~80% of the call."""
    with (SPEECH_DIR / "MANIFEST.tsv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if not r["file"].startswith("ami_")]
    clips = [
        (load_audio(SPEECH_DIR / r["file"]).samples.mean(axis=0), r["reference_transcript"])
        for r in rows
    ]
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


def _child(kind: str, samples: FloatArray, model_path: str, device: str, out: mp.Queue) -> None:  # type: ignore[type-arg]
    started = time.perf_counter()
    texts = _naive(samples, model_path, device) if kind == "naive" else _ours(samples, device)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put((seconds, texts, peak_mb))


def measure(kind: str, call: Call, model_path: str, device: str) -> tuple[float, list[str], float]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_child, args=(kind, call.samples, model_path, device, queue))
    process.start()
    result: tuple[float, list[str], float] = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()

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
        seconds, texts, peak_mb = measure(kind, call, model_path, args.device)
        error = jiwer.wer(refs, [normalise(t) for t in texts])
        results[kind] = seconds
        print(
            f"{kind:>5}: {seconds:7.1f} s wall, real-time factor {seconds / call.duration:.4f} "
            f"({call.duration / seconds:.1f}x real time), WER {error:.2%}, "
            f"peak RSS {peak_mb:.0f} MB",
            flush=True,
        )
    print(f"speed-up: {results['naive'] / results['ours']:.2f}x faster than naive")


if __name__ == "__main__":
    main()
