"""Benchmark: is the project ever less accurate than the faster-whisper it wraps, and does it
write words where nobody speaks?

Loads two recognisers in this process, each model once, the same model files for both:

- raw: `WhisperModel(model, device="cpu", compute_type="int8").transcribe(samples,
  beam_size=<the project's beam_size>, word_timestamps=True)`, the segments' texts joined,
  every other option at faster-whisper's default (what a user who just installed it gets);
- project: `Transcriber(Settings().asr)` on the CPU, `transcribe(Audio(...))`, the sentences
  joined (VAD, windows, the repeat and leakage handling: everything the service does).

and runs both on:

1. clean: the 17 clips of ../shared/data/speech that calls are built from (bench/asr.py
   `speech_clips`: 16 kHz mono). Per clip: seconds, WER of each side; pooled WER of each
   (all errors over all reference words);
2. mulaw: each clip resampled to 8 kHz (soxr) and written as a G.711 mu-law WAV, as a phone
   system records it; the project reads the file with `transcribe.audio.load_audio` (its own
   resampler), raw with `faster_whisper.decode_audio` (what a raw user does). Same table,
   and each side's pooled WER against its clean one;
3. noise: two minutes each of sound with no words in it, built in code (tests/signals.py,
   fixed seeds): reversed babble (7 voices of the clips played backwards, -20 dBFS), hold
   music (-20 dBFS), line noise (50 Hz and 60 Hz hum with harmonics at -40 dBFS over white
   noise at -45 dBFS) and comfort noise (pink, -60 dBFS). Every word either side writes
   there is invented; it prints how many (a word: letters or digits between spaces).

WER: Whisper's English normaliser on both texts, then jiwer's word alignment (as bench/asr.py
scores); errors are substitutions, deletions and insertions. The normaliser joins spoken
numbers ("five five" is "55", while "5 5" stays two words), so a clip of digits can score
over 100% on both sides alike.

4. calls (`--calls N`, the project only): N 10-minute two-party calls built as bench/asr.py
   builds its call (`build_call`, seeds 7, 8, ...; seed 7 is bench/asr.py's), WER per call
   and pooled. The clips come back on every call, so one misheard word counts several times,
   and one call's WER moves by tenths of a point with any change to packing; a change to the
   recogniser is judged on several calls (raw faster-whisper on such a call: bench/asr.py).

Run: `.venv/bin/python bench/accuracy.py` (a few minutes on 2 cores). `--only clean,mulaw`
runs some parts; `--crowds N` adds N more babbles (4 to 10 voices, 30 to 60 s each, seeds
of their own); `--verbose` prints both hypotheses wherever they differ (they are always
printed where the project is worse than raw). `--save FILE` writes every hypothesis and
figure as JSON; `--before FILE` compares the project's results with such a file, clip by
clip: the reference words it recognised before and misses now (and the other way), so a
change to the recogniser can be checked word by word.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import jiwer
import numpy as np
import soundfile as sf
import soxr
from whisper_normalizer.english import EnglishTextNormalizer

from asr import build_call, speech_clips
from transcribe.asr import Transcriber
from transcribe.audio import SAMPLE_RATE, Audio, FloatArray, load_audio
from transcribe.config import Settings

# The non-speech generators live with the tests' other synthetic signals, so tests can use
# them too; `python bench/accuracy.py` has only bench/ on its path.
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))
from signals import babble, hold_music, line_noise, pink_noise

SIDES = ("raw", "project")
PARTS = ("clean", "mulaw", "noise")
NOISE_SECONDS = 120.0
PHONE_RATE = 8000
normalise = EnglishTextNormalizer()


# --- the two recognisers ---------------------------------------------------------------------


class Raw:
    """faster-whisper as a user calls it: the project's model and beam, nothing else."""

    def __init__(self, model_path: str, beam_size: int) -> None:
        from faster_whisper import WhisperModel

        self.model = WhisperModel(model_path, device="cpu", compute_type="int8")
        self.beam_size = beam_size

    def samples(self, samples: FloatArray) -> str:
        segments, _ = self.model.transcribe(samples, beam_size=self.beam_size, word_timestamps=True)
        return " ".join(s.text.strip() for s in segments)

    def file(self, path: Path) -> str:
        from faster_whisper import decode_audio

        return self.samples(decode_audio(str(path)))


class Project:
    """The project's recogniser with the settings the service starts with, on the CPU."""

    def __init__(self) -> None:
        settings = Settings().asr
        settings.device = "cpu"
        self.transcriber = Transcriber(settings)

    def samples(self, samples: FloatArray) -> str:
        return self._text(
            Audio(samples=samples[None, :], source_rate=SAMPLE_RATE, source_format="WAV")
        )

    def file(self, path: Path) -> str:
        return self._text(load_audio(path))

    def _text(self, audio: Audio) -> str:
        return self.texts(audio)[0]

    def texts(self, audio: Audio) -> list[str]:
        """Each channel's sentences, joined."""
        document = self.transcriber.transcribe(audio)
        return [" ".join(s.sentence for s in ch.transcript) for ch in document.channels]


@dataclass(frozen=True)
class Sides:
    """Both recognisers; each call gives each side's text for one input, raw first."""

    raw: Raw
    project: Project

    def samples(self, samples: FloatArray) -> dict[str, str]:
        return {"raw": self.raw.samples(samples), "project": self.project.samples(samples)}

    def file(self, path: Path) -> dict[str, str]:
        return {"raw": self.raw.file(path), "project": self.project.file(path)}


# --- scoring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    errors: int
    words: int  # in the reference

    @property
    def wer(self) -> float:
        return self.errors / self.words if self.words else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(self.errors + other.errors, self.words + other.words)


def alignment(reference: str, hypothesis: str) -> jiwer.WordOutput:
    return jiwer.process_words(normalise(reference), normalise(hypothesis))


def score(reference: str, hypothesis: str) -> Score:
    out = alignment(reference, hypothesis)
    errors = out.substitutions + out.deletions + out.insertions
    return Score(errors, out.hits + out.substitutions + out.deletions)


def recognised(reference: str, hypothesis: str) -> set[int]:
    """Positions of the normalised reference's words that the hypothesis has, aligned."""
    chunks = alignment(reference, hypothesis).alignments[0]
    return {i for c in chunks if c.type == "equal" for i in range(c.ref_start_idx, c.ref_end_idx)}


def pooled(rows: list[ClipResult], side: str) -> Score:
    return sum((r.score(side) for r in rows), Score(0, 0))


def words(text: str) -> int:
    """Words of the text as written (before normalising): runs of characters between spaces
    with a letter or digit in them; a lone "." or "♪" is not a word."""
    return sum(any(c.isalnum() for c in token) for token in text.split())


# --- 1 and 2: speech, clean and through a phone line -----------------------------------------


@dataclass(frozen=True)
class ClipResult:
    name: str
    seconds: float
    reference: str
    hypotheses: dict[str, str]  # side -> text

    def score(self, side: str) -> Score:
        return score(self.reference, self.hypotheses[side])


def clean(sides: Sides) -> list[ClipResult]:
    rows = []
    for name, samples, reference in speech_clips():
        texts = sides.samples(samples)
        rows.append(ClipResult(name, len(samples) / SAMPLE_RATE, reference, texts))
    return rows


def mulaw(sides: Sides) -> list[ClipResult]:
    """Each clip as an 8 kHz G.711 mu-law WAV, read from the file by each side."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, samples, reference in speech_clips():
            path = Path(folder) / (Path(name).stem + ".wav")
            phone = soxr.resample(samples, SAMPLE_RATE, PHONE_RATE)
            sf.write(path, np.clip(phone, -1.0, 1.0), PHONE_RATE, subtype="ULAW")
            texts = sides.file(path)
            rows.append(ClipResult(name, len(samples) / SAMPLE_RATE, reference, texts))
    return rows


def print_clips(title: str, rows: list[ClipResult], verbose: bool) -> None:
    print(f"\n{title}\n{'clip':<36} {'s':>5} {'raw WER':>8} {'project WER':>12}")
    for row in rows:
        raw, ours = row.score("raw"), row.score("project")
        worse = ours.errors > raw.errors
        flag = "  <- project worse" if worse else ""
        print(f"{row.name:<36} {row.seconds:5.1f} {raw.wer:8.1%} {ours.wer:12.1%}{flag}")
        texts = row.hypotheses
        if worse or (verbose and normalise(texts["raw"]) != normalise(texts["project"])):
            print(f"    reference: {row.reference}")
            print(f"    raw:       {texts['raw']}")
            print(f"    project:   {texts['project']}")
    raw, ours = pooled(rows, "raw"), pooled(rows, "project")
    label = f"pooled ({raw.words} words)"
    print(f"{label:<42} {raw.wer:8.1%} {ours.wer:12.1%}", flush=True)


# --- 3 and 4: no speech at all ---------------------------------------------------------------


@dataclass(frozen=True)
class NoiseResult:
    name: str
    seconds: float
    texts: dict[str, str]  # side -> text

    def words(self, side: str) -> int:
        return words(self.texts[side])


def noises(clips: list[FloatArray]) -> list[tuple[str, FloatArray]]:
    """The non-speech cases, NOISE_SECONDS each (module docstring)."""
    return [
        ("reversed babble, 7 voices", babble(clips, NOISE_SECONDS, voices=7, seed=1)),
        ("hold music", hold_music(NOISE_SECONDS, seed=2)),
        ("line noise, 50 Hz hum", line_noise(NOISE_SECONDS, mains=50.0, seed=3)),
        ("line noise, 60 Hz hum", line_noise(NOISE_SECONDS, mains=60.0, seed=4)),
        ("comfort noise", pink_noise(NOISE_SECONDS, seed=5)),
    ]


def crowds(clips: list[FloatArray], count: int) -> list[tuple[str, FloatArray]]:
    """`count` more babbles, each with seeds, voices (4-10) and length (30-60 s) of its own."""
    out = []
    for k in range(count):
        rng = np.random.default_rng(1000 + k)
        voices, seconds = int(rng.integers(4, 11)), float(rng.uniform(30, 60))
        samples = babble(clips, seconds, voices=voices, seed=1000 + k)
        out.append((f"crowd {k + 1}: {voices} voices, {seconds:.0f} s", samples))
    return out


def silent(sides: Sides, cases: list[tuple[str, FloatArray]]) -> list[NoiseResult]:
    return [
        NoiseResult(name, len(samples) / SAMPLE_RATE, sides.samples(samples))
        for name, samples in cases
    ]


def print_noise(title: str, rows: list[NoiseResult], verbose: bool) -> None:
    print(f"\n{title}\n{'case':<36} {'s':>5} {'raw words':>10} {'project words':>14}")
    for row in rows:
        print(
            f"{row.name:<36} {row.seconds:5.0f} {row.words('raw'):10d} {row.words('project'):14d}"
        )
        if verbose:
            for side in SIDES:
                if row.texts[side]:
                    print(f"    {side + ':':<8} {row.texts[side]}")
    total = {side: sum(r.words(side) for r in rows) for side in SIDES}
    print(f"{'total':<42} {total['raw']:10d} {total['project']:14d}", flush=True)


# --- saving, and comparing with a saved run --------------------------------------------------


# --- 4: whole calls, the project only ---------------------------------------------------------


def calls(project: Project, count: int) -> None:
    print("\n10-minute two-party calls (bench/asr.py build_call), project only")
    print(f"{'seed':>4}  {'words':>5}  {'errors':>6}  {'WER':>6}")
    total = Score(0, 0)
    for seed in range(7, 7 + count):
        call = build_call(10.0, seed=seed)
        audio = Audio(samples=call.samples, source_rate=SAMPLE_RATE, source_format="WAV")
        texts = project.texts(audio)
        result = sum(
            (score(r, t) for r, t in zip(call.references, texts, strict=True)), Score(0, 0)
        )
        total += result
        print(f"{seed:>4}  {result.words:>5}  {result.errors:>6}  {result.wer:>6.2%}", flush=True)
    print(f"{'all':>4}  {total.words:>5}  {total.errors:>6}  {total.wer:>6.2%}")


def to_json(results: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part, rows in results.items():
        if part in ("clean", "mulaw"):
            out[part] = {
                "pooled": {
                    side: {**asdict(pooled(rows, side)), "wer": pooled(rows, side).wer}
                    for side in SIDES
                },
                "clips": [
                    {
                        **asdict(r),
                        "wer": {side: r.score(side).wer for side in SIDES},
                        "errors": {side: r.score(side).errors for side in SIDES},
                    }
                    for r in rows
                ],
            }
        else:
            out[part] = [
                {**asdict(r), "words": {side: r.words(side) for side in SIDES}} for r in rows
            ]
    return out


def compare(before: dict[str, Any], results: dict[str, Any]) -> None:
    """The project's changes since `before`: per clip, WER and the reference words recognised
    then and missed now (lost) or the other way (gained); per noise case, words written."""
    print("\nproject against --before")
    lost_total = 0
    for part in ("clean", "mulaw"):
        if part not in before or part not in results:
            continue
        then = {c["name"]: c for c in before[part]["clips"]}
        for row in results[part]:
            if row.name not in then:
                continue
            old = then[row.name]["hypotheses"]["project"]
            new = row.hypotheses["project"]
            if normalise(old) == normalise(new):
                continue
            reference = normalise(row.reference).split()
            was, now = recognised(row.reference, old), recognised(row.reference, new)
            lost = [reference[i] for i in sorted(was - now)]
            gained = [reference[i] for i in sorted(now - was)]
            lost_total += len(lost)
            old_wer = score(row.reference, old).wer
            print(
                f"{part:<5} {row.name:<36} WER {old_wer:6.1%} -> {row.score('project').wer:6.1%}"
                f"; lost {lost or '-'}; gained {gained or '-'}"
            )
            print(f"    before: {old}\n    now:    {new}")
        old_pooled = before[part]["pooled"]["project"]["wer"]
        now_pooled = pooled(results[part], "project").wer
        print(f"{part:<5} pooled WER {old_pooled:.1%} -> {now_pooled:.1%}")
    print(f"reference words lost: {lost_total}")
    for part in ("noise", "crowds"):
        if part not in before or part not in results:
            continue
        then = {c["name"]: c["words"]["project"] for c in before[part]}
        for noise in results[part]:
            if noise.name in then:
                print(
                    f"{noise.name:<36} words {then[noise.name]:4d} -> {noise.words('project'):4d}"
                )


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help="comma-separated parts to run, of clean, mulaw, noise (default: all three)",
    )
    parser.add_argument(
        "--crowds",
        type=int,
        default=0,
        metavar="N",
        help="N more reversed babbles, 4-10 voices and 30-60 s each; total words each side "
        "(default 0: none)",
    )
    parser.add_argument(
        "--calls",
        type=int,
        default=0,
        metavar="N",
        help="N 10-minute two-party calls (seeds 7 on), the project's WER on each (default 0)",
    )
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print both hypotheses wherever they differ, and the words written on noise",
    )
    parser.add_argument(
        "--save", type=Path, metavar="FILE", help="write every hypothesis and figure as JSON"
    )
    parser.add_argument(
        "--before",
        type=Path,
        metavar="FILE",
        help="a --save file of an earlier run: print the project's changes since, word by word",
    )
    args = parser.parse_args()
    parts = {p.strip() for p in args.only.split(",") if p.strip()}
    if parts - set(PARTS):
        parser.error(f"--only: unknown part(s) {', '.join(sorted(parts - set(PARTS)))}")
    before = json.loads(args.before.read_text()) if args.before else None

    started = time.perf_counter()
    project = Project()
    info = project.transcriber.model_info
    beam = project.transcriber.settings.beam_size
    sides = Sides(raw=Raw(info.path, beam), project=project)
    print(f"model {info.name} ({info.path}), CPU int8, beam {beam}", flush=True)

    results: dict[str, Any] = {}
    if "clean" in parts:
        results["clean"] = clean(sides)
        print_clips("clean clips, 16 kHz", results["clean"], args.verbose)
    if "mulaw" in parts:
        results["mulaw"] = mulaw(sides)
        print_clips("8 kHz G.711 mu-law WAV", results["mulaw"], args.verbose)
        if "clean" in results:
            for side in SIDES:
                phone, studio = pooled(results["mulaw"], side), pooled(results["clean"], side)
                print(
                    f"{side}: pooled WER {studio.wer:.1%} clean, {phone.wer:.1%} mu-law "
                    f"({(phone.wer - studio.wer) * 100:+.1f} points)"
                )
    clips = [samples for _, samples, _ in speech_clips()]
    if "noise" in parts:
        results["noise"] = silent(sides, noises(clips))
        print_noise("no speech: words written", results["noise"], args.verbose)
    if args.crowds:
        results["crowds"] = silent(sides, crowds(clips, args.crowds))
        print_noise("crowds of reversed voices: words written", results["crowds"], args.verbose)
    if args.calls:
        calls(project, args.calls)
    if before is not None:
        compare(before, results)
    if args.save:
        saved = {"model": info.name, "beam_size": beam, **to_json(results)}
        args.save.write_text(json.dumps(saved, indent=1) + "\n")
        print(f"\nsaved to {args.save}")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
