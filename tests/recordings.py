"""Helpers for the recording engine tests: render legs held in memory, read the file back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from transcribe.audio import SAMPLE_RATE, FloatArray
from transcribe.ncco import parse_record
from transcribe.recording import LegSource, RecordingResult, render

FRAME = 320


def frames_of(samples: FloatArray, size: int = FRAME) -> list[FloatArray]:
    """A leg's audio cut into the 20 ms frames a live socket would deliver."""
    return [samples[i : i + size] for i in range(0, len(samples), size)]


def record(
    path: Path,
    legs: list[tuple[float, FloatArray]],
    rate: int = SAMPLE_RATE,
    **options: Any,
) -> tuple[RecordingResult, FloatArray]:
    """Render legs (offset in seconds, mono audio at `rate`) and decode the file: (channels, n)."""
    sources = [LegSource(frames_of(a, rate // 50), offset, rate) for offset, a in legs]
    result = render(parse_record(options), sources, path)
    return result, read(path)


def read(path: Path) -> FloatArray:
    samples, rate = sf.read(str(path), dtype="float32", always_2d=True)
    assert rate == SAMPLE_RATE
    return np.ascontiguousarray(samples.T)


def level_db(samples: FloatArray) -> float:
    return float(10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-20))
