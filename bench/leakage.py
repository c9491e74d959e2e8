"""Benchmark: a two-party call whose channels leak into each other, with and without the gate.

Builds a 3-minute two-channel call from the real clips in ../shared/data/speech (`asr._clips`):
turns alternate between the parties, each clip brought to the same speech level, and each
turn starts before the previous one ends, by 30% of the shorter of the two (both talk at once
there). Then each channel also carries the other party, `--leak-db` quieter and `--delay-ms`
late (headset echo): -20 dB and 25 ms, then -12 dB and 60 ms, then no leak at all.

For each variant it runs, in this process, the project (`Transcriber.transcribe`, leakage
gate on and off; the model loaded once) and raw faster-whisper on each channel
(`WhisperModel(path).transcribe(channel, beam_size=<ours>, word_timestamps=True)`), and prints:

- WER over both channels (Whisper's English normaliser, jiwer, as bench/asr.py);
- other-party insertions: words of a channel's hypothesis that jiwer aligns as insertions
  against that channel's reference and that occur in the other channel's reference (a
  leaked word that happens to replace one of the party's own counts in the WER only);
- overlap kept: of the words the project transcribes, on the clean call with the gate off,
  inside the stretches where both talk, how many come back on the same channel within 0.5 s
  (the same word); the party's own speech under the other's, kept or lost;
- wall time of the transcription (model loading left out).

Run: `.venv/bin/python bench/leakage.py` (about 2 minutes on 2 cores); `--minutes`,
`--seed` change the call, `--no-raw` leaves raw faster-whisper out.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

import jiwer
import numpy as np
from whisper_normalizer.english import EnglishTextNormalizer

from asr import _clips
from transcribe.asr import Transcriber
from transcribe.asr.timing import frame_levels
from transcribe.audio import SAMPLE_RATE, Audio, FloatArray
from transcribe.config import Settings

SPEECH_DB = -20.0  # every clip's loud frames (95th percentile of its 10 ms levels) at this
OVERLAP = 0.3
NEAR_S = 0.5
normalise = EnglishTextNormalizer()


@dataclass(frozen=True)
class Party:
    """One party's speech (its channel without leakage), turns and reference."""

    samples: FloatArray
    turns: list[tuple[float, float]]  # seconds
    reference: str


@dataclass(frozen=True)
class Word:
    text: str  # normalised
    start: float  # seconds
    end: float


def build_parties(minutes: float, seed: int = 11) -> list[Party]:
    """Two parties taking turns that overlap by OVERLAP of the shorter turn."""
    clips = _clips()
    order = np.random.default_rng(seed).permutation(len(clips))
    total = round(minutes * 60 * SAMPLE_RATE)
    samples = np.zeros((2, total), np.float32)
    turns: list[list[tuple[float, float]]] = [[], []]
    texts: list[list[str]] = [[], []]
    position, previous, turn = SAMPLE_RATE, 0, 0
    while True:
        clip, text = clips[order[turn % len(order)]]
        clip = at_level(clip)
        if turn:
            position -= round(OVERLAP * min(previous, len(clip)))
        if position + len(clip) > total - SAMPLE_RATE:
            break
        samples[turn % 2, position : position + len(clip)] = clip
        turns[turn % 2].append((position / SAMPLE_RATE, (position + len(clip)) / SAMPLE_RATE))
        texts[turn % 2].append(text)
        position += len(clip)
        previous = len(clip)
        turn += 1
    return [Party(samples[i], turns[i], " ".join(texts[i])) for i in range(2)]


def at_level(clip: FloatArray, level_db: float = SPEECH_DB) -> FloatArray:
    """The clip scaled so that its loud frames (95th percentile of its 10 ms levels) are at
    `level_db`: two parties at similar levels."""
    gain_db = level_db - float(np.percentile(frame_levels(clip), 95))
    return (clip * 10 ** (gain_db / 20)).astype(np.float32)


def leak(own: FloatArray, leak_db: float | None, delay_ms: float) -> FloatArray:
    """Two channels (2, frames), each also carrying the other `leak_db` quieter and
    `delay_ms` late; `None`: as they are."""
    if leak_db is None:
        return own
    delay = round(delay_ms / 1000 * SAMPLE_RATE)
    late = np.zeros_like(own)
    late[:, delay:] = own[:, : own.shape[1] - delay]
    return (own + 10 ** (leak_db / 20) * late[::-1]).astype(np.float32)


def overlaps(parties: list[Party]) -> list[tuple[float, float]]:
    """The stretches where both parties talk."""
    out = []
    for a0, a1 in parties[0].turns:
        for b0, b1 in parties[1].turns:
            if max(a0, b0) < min(a1, b1):
                out.append((max(a0, b0), min(a1, b1)))
    return out


def words_of(text: str, start: float, end: float) -> list[Word]:
    """A piece of hypothesis normalised into words, spread over its time span."""
    tokens = normalise(text).split()
    step = (end - start) / max(len(tokens), 1)
    return [Word(t, start + k * step, start + (k + 1) * step) for k, t in enumerate(tokens)]


def project(transcriber: Transcriber, samples: FloatArray, *, gate: bool) -> list[list[Word]]:
    transcriber.settings.leakage_gate = gate
    audio = Audio(samples=samples, source_rate=SAMPLE_RATE, source_format="WAV")
    doc = transcriber.transcribe(audio)
    return [
        [
            w
            for s in ch.transcript
            for x in s.words
            for w in words_of(x.word, x.start_time / 1000, x.end_time / 1000)
        ]
        for ch in doc.channels
    ]


def raw(model_path: str, beam_size: int) -> Callable[[FloatArray], list[list[Word]]]:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path)

    def run(samples: FloatArray) -> list[list[Word]]:
        out = []
        for channel in samples:
            segments, _ = model.transcribe(channel, beam_size=beam_size, word_timestamps=True)
            out.append(
                [
                    w
                    for s in segments
                    for x in s.words or []
                    for w in words_of(x.word, x.start, x.end)
                ]
            )
        return out

    return run


def other_party_insertions(parties: list[Party], hypotheses: list[list[Word]]) -> int:
    """Inserted words (jiwer's alignment against the channel's reference) that occur in the
    other channel's reference."""
    count = 0
    for i, party in enumerate(parties):
        other = set(normalise(parties[1 - i].reference).split())
        hypothesis = [w.text for w in hypotheses[i]]
        if not hypothesis:
            continue
        result = jiwer.process_words(normalise(party.reference), " ".join(hypothesis))
        for chunk in result.alignments[0]:
            if chunk.type == "insert":
                inserted = hypothesis[chunk.hyp_start_idx : chunk.hyp_end_idx]
                count += sum(word in other for word in inserted)
    return count


def kept(
    baseline: list[list[Word]], hypotheses: list[list[Word]], spans: list[tuple[float, float]]
) -> tuple[int, int]:
    """(found again, all) of the baseline's words inside `spans`, per channel (module doc)."""
    found = total = 0
    for before, after in zip(baseline, hypotheses, strict=True):
        for word in before:
            middle = (word.start + word.end) / 2
            if not any(a <= middle <= b for a, b in spans):
                continue
            total += 1
            found += any(
                w.text == word.text and abs((w.start + w.end) / 2 - middle) <= NEAR_S for w in after
            )
    return found, total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-raw", action="store_true", help="leave raw faster-whisper out")
    args = parser.parse_args()

    parties = build_parties(args.minutes, args.seed)
    spans = overlaps(parties)
    duration = len(parties[0].samples) / SAMPLE_RATE
    speech = sum(b - a for p in parties for a, b in p.turns)
    print(
        f"call: {duration:.0f} s, 2 channels, {sum(len(p.turns) for p in parties)} turns, "
        f"{speech:.0f} s of speech, both talking {sum(b - a for a, b in spans):.0f} s",
        flush=True,
    )
    settings = Settings().asr
    settings.device = "cpu"
    transcriber = Transcriber(settings)
    references = [normalise(p.reference) for p in parties]
    own = np.stack([p.samples for p in parties])
    baseline = project(transcriber, own, gate=False)
    runs: list[tuple[str, Callable[[FloatArray], list[list[Word]]]]] = [
        ("project, gate on", functools.partial(project, transcriber, gate=True)),
        ("project, gate off", functools.partial(project, transcriber, gate=False)),
    ]
    if not args.no_raw:
        runs.append(
            ("raw faster-whisper", raw(transcriber.model_info.path, transcriber.settings.beam_size))
        )
    for leak_db, delay_ms in ((-20.0, 25.0), (-12.0, 60.0), (None, 0.0)):
        samples = leak(own, leak_db, delay_ms)
        name = f"leak {leak_db:.0f} dB, {delay_ms:.0f} ms" if leak_db else "no leak"
        for label, run in runs:
            started = time.perf_counter()
            hypotheses = run(samples)
            seconds = time.perf_counter() - started
            error = jiwer.wer(references, [" ".join(w.text for w in h) for h in hypotheses])
            found, total = kept(baseline, hypotheses, spans)
            print(
                f"{name:>18} | {label:<19}: WER {error:6.1%}, other-party insertions "
                f"{other_party_insertions(parties, hypotheses):3d}, overlap kept "
                f"{found:3d}/{total:3d}, {seconds:5.1f} s wall",
                flush=True,
            )


if __name__ == "__main__":
    main()
