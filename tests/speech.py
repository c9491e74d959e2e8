"""The real speech clips of ../shared/data/speech, and what every transcription must satisfy.

Plain helpers, imported by the tests; the fixtures that hand them out (`clips`) are in
conftest.py.
"""

from __future__ import annotations

import csv
import itertools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from transcribe.audio import SAMPLE_RATE, FloatArray, load_audio
from transcribe.document import TranscriptionDocument

REPO = Path(__file__).resolve().parents[1]
SPEECH_DIR = Path(os.environ.get("TRANSCRIBE_SPEECH_DIR", REPO.parent / "shared/data/speech"))


@dataclass(frozen=True)
class Clip:
    """One real speech clip with its reference transcript, decoded to 16 kHz mono."""

    file: str
    reference: str
    samples: FloatArray

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def manifest() -> list[dict[str, str]]:
    """The rows of the clips' MANIFEST.tsv; fails the test, saying where, when it is missing."""
    path = SPEECH_DIR / "MANIFEST.tsv"
    if not path.is_file():
        pytest.fail(
            f"the shared speech clips are missing: expected {path} "
            "(set TRANSCRIBE_SPEECH_DIR to their folder)"
        )
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_clips() -> dict[str, Clip]:
    """Every clip in the manifest by file name, mono (channels averaged)."""
    out = {}
    for row in manifest():
        audio = load_audio(SPEECH_DIR / row["file"])
        out[row["file"]] = Clip(
            file=row["file"],
            reference=row["reference_transcript"],
            samples=audio.samples.mean(axis=0).astype(np.float32),
        )
    return out


def assert_document_invariants(doc: TranscriptionDocument) -> None:
    """What must hold of every document we produce, whatever was said."""
    for channel in doc.channels:
        assert channel.duration > 0
        previous_start = -1
        for sentence in channel.transcript:
            words = sentence.words
            assert words, "a sentence without words"
            assert sentence.timestamp == words[0].start_time
            assert sentence.duration == words[-1].end_time - sentence.timestamp
            assert sentence.timestamp >= previous_start, "sentences out of order"
            previous_start = sentence.timestamp
            assert sentence.raw_sentence == " ".join(w.word for w in words)
            assert sentence.raw_sentence == sentence.raw_sentence.lower()
            assert sentence.sentence.strip() == sentence.sentence and sentence.sentence
            for a, b in itertools.pairwise(words):
                assert a.start_time <= b.start_time, "words out of order"
            assert sentence.sentence.rstrip("\"'”’)]").endswith((".", "?", "!", "…")), sentence
            for w in words:
                assert 0 <= w.start_time < w.end_time <= round(channel.duration * 1000) + 20
                assert w.end_time - w.start_time <= 2500, w
                assert sentence.timestamp <= w.start_time
                assert w.end_time <= sentence.timestamp + sentence.duration
                assert 0.0 <= w.confidence <= 1.0
                assert w.word and w.word == w.word.lower() and " " not in w.word
                assert not any(c in w.word for c in ',!?;:"()[]-'), w.word
