"""Benchmark: word and sentence times on real speech with pauses inserted, ours against raw.

Each shared clip (../shared/data/speech) is cut at its quiet gaps between words and put back
together with a pause of its own noise floor at each cut (`with_pauses`, also used by
tests/test_word_timing.py), twice with different pauses: 36 channels. Each channel is
transcribed by the project (`Transcriber`) and by raw faster-whisper (`WhisperModel.transcribe`,
same model, same beam, word timestamps; a segment stands for a sentence there). Prints, for
both:

- words: how many, with no duration (`end <= start`), longer than 2.5 s, in an inserted pause;
- onset error: the first word of each piece of speech against the piece's onset (the first
  10 ms frame halfway in dB from the clip's floor to the piece's peak), and offset error: the
  last word of each piece against its offset; percentiles of the absolute error;
- sentence end error: each sentence's end against the nearest end of speech (piece offset),
  percentiles and the share within 250 ms; sentences that do not end with punctuation.

Run: `.venv/bin/python bench/word_timing.py` (about two minutes on two cores).
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
import numpy.typing as npt

from transcribe.audio import SAMPLE_RATE, Audio, FloatArray, load_audio

SPEECH_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "speech"
FRAME = SAMPLE_RATE // 100  # 10 ms
SENTENCE_END_OK_S = 0.25
MAX_WORD_S = 2.5


@dataclass(frozen=True)
class Piece:
    """A stretch of a clip between two inserted pauses: where its sound starts and ends."""

    onset: float  # seconds, in the built channel
    offset: float


@dataclass(frozen=True)
class Built:
    """A clip with pauses inserted: the channel, its pieces of speech and the pauses."""

    samples: FloatArray
    pieces: list[Piece]
    pauses: list[tuple[float, float]]


def _levels(samples: FloatArray) -> npt.NDArray[np.float64]:
    frames = samples[: len(samples) // FRAME * FRAME].reshape(-1, FRAME).astype(np.float64)
    levels: npt.NDArray[np.float64] = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-12)
    return levels


def with_pauses(samples: FloatArray, rng: np.random.Generator, seconds: float = 0.0) -> Built:
    """The clip cut at its quiet gaps between words (50 ms or more at least three quarters of
    the way in dB from its peak down to its floor), with a pause of 0.3 to 1.2 s of the clip's
    own noise floor inserted at each cut and before, and the noise after it up to `seconds`
    (at least one more pause; a channel has one noise floor, as a call's does).

    Each piece's onset and offset are its first and last 10 ms frame at least halfway in dB
    from the clip's floor to the piece's own peak (a quiet word has its onset too).
    """
    parts: list[FloatArray] = []
    pieces: list[Piece] = []
    pauses: list[tuple[float, float]] = []
    level = _levels(samples)
    floor, peak = float(np.percentile(level, 20)), float(level.max())
    loud = level >= floor + (peak - floor) / 2
    quiet = level < floor + (peak - floor) / 4
    position = 0

    def pause(length: int | None = None) -> None:
        nonlocal position
        length = length or round(rng.uniform(0.3, 1.2) * SAMPLE_RATE)
        noise = rng.standard_normal(length) * 10 ** (floor / 20)
        parts.append(noise.astype(np.float32))
        pauses.append((position / SAMPLE_RATE, (position + length) / SAMPLE_RATE))
        position += length

    # Cut in the middle of each quiet run of 50 ms or more between the first and last loud
    # frames.
    first, last = int(np.argmax(loud)), len(loud) - int(np.argmax(loud[::-1]))
    cuts, run = [], 0
    for i in range(first, last):
        run = run + 1 if quiet[i] else 0
        if run >= 5 and (i + 1 == last or not quiet[i + 1]):
            cuts.append(i + 1 - run // 2)
    bounds = [0, *cuts, len(level)]
    pause()
    for a, b in pairwise(bounds):
        in_piece = np.flatnonzero(level[a:b] >= floor + (level[a:b].max() - floor) / 2)
        onset, offset = position + in_piece[0] * FRAME, position + (in_piece[-1] + 1) * FRAME
        pieces.append(Piece(onset / SAMPLE_RATE, offset / SAMPLE_RATE))
        parts.append(samples[a * FRAME : b * FRAME])
        position += (b - a) * FRAME
        if b < len(level):
            pause()
    pause(max(round(seconds * SAMPLE_RATE) - position, round(rng.uniform(0.5, 1.5) * SAMPLE_RATE)))
    return Built(np.concatenate(parts), pieces, pauses)


@dataclass
class Timed:
    """What one side put out for a channel: its words and its sentences, in seconds."""

    words: list[tuple[float, float]]
    sentences: list[tuple[float, str]]  # (end, text)


def _ours(channels: list[FloatArray]) -> list[Timed]:
    from transcribe.asr import Transcriber
    from transcribe.config import AsrSettings

    transcriber = Transcriber(AsrSettings(device="cpu"))
    out = []
    for samples in channels:  # one at a time: channels differ in length
        audio = Audio(samples=samples[None, :], source_rate=SAMPLE_RATE, source_format="WAV")
        (channel,) = transcriber.transcribe(audio).channels
        out.append(
            Timed(
                words=[
                    (w.start_time / 1000, w.end_time / 1000)
                    for s in channel.transcript
                    for w in s.words
                ],
                sentences=[
                    ((s.timestamp + s.duration) / 1000, s.sentence) for s in channel.transcript
                ],
            )
        )
    return out


def _raw(channels: list[FloatArray], beam_size: int) -> list[Timed]:
    from faster_whisper import WhisperModel

    from transcribe.asr.models import resolve_model
    from transcribe.config import AsrSettings

    model = WhisperModel(resolve_model(AsrSettings()).path, device="cpu", compute_type="int8")
    out = []
    for samples in channels:
        segments, _ = model.transcribe(samples, beam_size=beam_size, word_timestamps=True)
        timed = Timed(words=[], sentences=[])
        for segment in segments:
            timed.words.extend((w.start, w.end) for w in segment.words or [])
            timed.sentences.append((segment.end, segment.text.strip()))
        out.append(timed)
    return out


def _percentiles(errors: list[float]) -> str:
    if not errors:
        return "none"
    p = np.percentile(np.abs(errors) * 1000, [50, 90, 95])
    return f"p50 {p[0]:4.0f} ms  p90 {p[1]:4.0f} ms  p95 {p[2]:4.0f} ms  (n={len(errors)})"


def report(name: str, built: list[Built], outputs: list[Timed]) -> None:
    words = long = empty = in_pause = 0
    onsets: list[float] = []
    offsets: list[float] = []
    ends: list[float] = []
    unpunctuated = sentences = 0
    for b, timed in zip(built, outputs, strict=True):
        words += len(timed.words)
        empty += sum(end <= start for start, end in timed.words)
        long += sum(end - start > MAX_WORD_S for start, end in timed.words)
        in_pause += sum(
            a + 0.01 < start and end < b_ - 0.01 for start, end in timed.words for a, b_ in b.pauses
        )
        for piece in b.pieces:
            inside = [
                (s, e)
                for s, e in timed.words
                if piece.onset - 0.3 <= (s + e) / 2 <= piece.offset + 0.3
            ]
            if inside:
                onsets.append(inside[0][0] - piece.onset)
                offsets.append(inside[-1][1] - piece.offset)
        piece_ends = np.array([p.offset for p in b.pieces])
        for end, text in timed.sentences:
            sentences += 1
            unpunctuated += not text.rstrip("\"'”’)]").endswith((".", "?", "!", "…"))
            ends.append(float(piece_ends[np.argmin(np.abs(piece_ends - end))] - end))
    within = np.mean(np.abs(ends) <= SENTENCE_END_OK_S) * 100 if ends else 0.0
    print(f"\n{name}")
    print(
        f"  words {words}: no duration {empty}, longer than {MAX_WORD_S} s {long},"
        f" in a pause {in_pause}"
    )
    print(f"  first word of a piece vs its onset   {_percentiles(onsets)}")
    print(f"  last word of a piece vs its offset   {_percentiles(offsets)}")
    print(
        f"  sentence end vs the end of speech    {_percentiles(ends)}; within 250 ms {within:.0f}%"
    )
    print(f"  sentences {sentences}, without end punctuation {unpunctuated}")


def load_clips() -> list[FloatArray]:
    with (SPEECH_DIR / "MANIFEST.tsv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [load_audio(SPEECH_DIR / r["file"]).samples.mean(axis=0) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=2, help="versions of each clip (default 2)")
    parser.add_argument("--no-raw", action="store_true", help="skip raw faster-whisper")
    args = parser.parse_args()
    from transcribe.config import AsrSettings

    clips = load_clips()
    built = [
        with_pauses(clip, np.random.default_rng(seed))
        for seed in range(args.seeds)
        for clip in clips
    ]
    channels = [b.samples for b in built]
    print(f"{len(built)} channels, {sum(len(c) for c in channels) / SAMPLE_RATE:.0f} s of audio")
    report("transcribe", built, _ours(channels))
    if not args.no_raw:
        report("raw faster-whisper", built, _raw(channels, AsrSettings().beam_size))


if __name__ == "__main__":
    main()
