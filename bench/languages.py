"""Benchmark: WER per language through the path a job takes (`Engines.transcriber_for`, then
`Transcriber.transcribe`), and what the multilingual model costs to assemble and load.

The non-English speech is SYNTHETIC: espeak-ng speaks the sentences of
tests/data/languages/sentences.tsv (three per language, a support call's kind of sentence).
No real non-English speech with a transcript and a clear licence could be had offline (see
tests/data/languages/MANIFEST.md), so these figures say that each language reaches the right
model and comes back in that language; they are no measure of WER on real calls. For
comparison the same synthetic English goes through the English model (the service's path for
English) and through the multilingual one, and so do the real English clips of
../shared/data/speech (`TRANSCRIBE_SPEECH_DIR` moves it).

WER is on Whisper's basic normaliser (lower case, no punctuation, any language), so the English
figures are a little higher than bench/asr.py's, which uses the English one.
Run: `.venv/bin/python bench/languages.py` (CPU, int8; `--device cuda` for a GPU).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import jiwer
import numpy as np
from whisper_normalizer.basic import BasicTextNormalizer

from transcribe.asr import Transcriber
from transcribe.asr.models import resolve_model
from transcribe.asr.transcriber import normalise_language
from transcribe.audio import SAMPLE_RATE, Audio, FloatArray, load_audio
from transcribe.config import Settings
from transcribe.engines import Engines
from transcribe.metrics import Metrics

REPO = Path(__file__).resolve().parents[1]
SENTENCES = REPO / "tests" / "data" / "languages" / "sentences.tsv"
SPEECH_DIR = Path(
    os.environ.get("TRANSCRIBE_SPEECH_DIR", REPO.parent / "shared" / "data" / "speech")
)
normalise = BasicTextNormalizer()


def espeak(text: str, voice: str) -> FloatArray:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(path), text], check=True)
        samples: FloatArray = load_audio(path).samples[0]
        return samples


def synthetic() -> dict[str, list[tuple[FloatArray, str]]]:
    """language -> [(samples, reference)], one per sentence of the TSV."""
    out: dict[str, list[tuple[FloatArray, str]]] = defaultdict(list)
    with SENTENCES.open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            out[row["language"]].append((espeak(row["sentence"], row["voice"]), row["sentence"]))
    return out


def real_english() -> list[tuple[FloatArray, str]]:
    with (SPEECH_DIR / "MANIFEST.tsv").open(newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return [
        (load_audio(SPEECH_DIR / r["file"]).samples.mean(axis=0), r["reference_transcript"])
        for r in rows
    ]


def score(
    transcriber: Transcriber, clips: list[tuple[FloatArray, str]], language: str
) -> tuple[float, float, float, str]:
    """WER over the clips (each a mono call of its own), real-time factor, the WER of plain
    faster-whisper on the same model (`model.transcribe(clip, language=...)`, greedy: is it
    our pipeline or the model?), and the first hypothesis."""
    hypotheses, plain, references = [], [], []
    audio_s = wall = 0.0
    code = normalise_language(language)
    for samples, reference in clips:
        audio = Audio(samples[None, :].astype(np.float32), SAMPLE_RATE, "WAV")
        started = time.perf_counter()
        doc = transcriber.transcribe(audio, language=language)
        wall += time.perf_counter() - started
        audio_s += audio.duration
        hypotheses.append(normalise(" ".join(s.sentence for s in doc.channels[0].transcript)))
        segments, _ = transcriber.model.transcribe(samples, language=code, beam_size=1)
        plain.append(normalise(" ".join(segment.text for segment in segments)))
        references.append(normalise(reference))
    return (
        jiwer.wer(references, hypotheses),
        wall / audio_s,
        jiwer.wer(references, plain),
        hypotheses[0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    args = parser.parse_args()
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is missing: apt-get install espeak-ng")

    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(data_dir=Path(data_dir), asr={"device": args.device})
        started = time.perf_counter()
        resolve_model(settings.asr, settings.asr.multilingual_model)
        assembled = time.perf_counter() - started
        engines = Engines(settings, Metrics())
        english = engines.transcriber()
        started = time.perf_counter()
        multilingual = engines.multilingual()
        loaded = time.perf_counter() - started
        runtime = multilingual.runtime
        print(f"device {runtime.device}/{runtime.compute_type}, {runtime.cpu_threads} threads")
        print(
            f"multilingual model {multilingual.model_info.name}: assembled from its packages "
            f"into the cache in {assembled:.2f} s (once), loaded in {loaded:.2f} s "
            f"(English model {english.model_info.name} loaded in {english.load_seconds:.2f} s)"
        )

        clips = synthetic()
        print("\nsynthetic speech (espeak-ng), 3 sentences per language, each a call of its own:")
        print(
            f"{'language':<10} {'model':<8} {'WER':>6} {'RTF':>6} {'plain':>6}  "
            "first sentence heard"
        )
        rows: list[tuple[str, Transcriber, str]] = [
            (language, engines.transcriber_for(language), "") for language in clips
        ]
        rows.insert(1, ("en-US", multilingual, " (for comparison)"))
        for language, transcriber, note in rows:
            wer, rtf, plain, heard = score(transcriber, clips[language], language)
            name = transcriber.model_info.name
            print(
                f"{language:<10} {name:<8} {wer:>6.1%} {rtf:>6.3f} {plain:>6.1%}  "
                f"{heard[:50]}{note}"
            )

        real = real_english()
        print(f"\nreal English speech ({len(real)} clips of {SPEECH_DIR.name}/, en-US):")
        for transcriber in (english, multilingual):
            wer, rtf, plain, _ = score(transcriber, real, "en-US")
            name = transcriber.model_info.name
            print(f"{name:<8} WER {wer:.1%}  RTF {rtf:.3f}  plain faster-whisper WER {plain:.1%}")
        for transcriber in (english, multilingual):
            transcriber.close()


if __name__ == "__main__":
    main()
