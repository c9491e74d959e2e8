"""Helpers for the recording engine tests: render legs held in memory, read the file back."""

from __future__ import annotations

from dataclasses import dataclass
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


MPEG2_LAYER3_KBPS = (None, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, None)
MPEG2_RATES = (22050, 24000, 16000, None)
MONO = 3


@dataclass(frozen=True)
class Mp3Frame:
    version: int  # 2 is MPEG-2
    layer: int  # 3 is Layer III
    kbps: int | None
    sample_rate: int | None
    channel_mode: int  # 0 stereo, 1 joint stereo, 2 dual channel, 3 mono


def mp3_frames(data: bytes) -> list[Mp3Frame]:
    """Every MPEG audio frame header, walking the file frame by frame from start to end."""
    pos, end = 0, len(data)
    if data[:3] == b"ID3":  # ID3v2 tag: 10-byte header, then a syncsafe size
        pos = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    if data[-128:-125] == b"TAG":  # ID3v1 trailer
        end -= 128
    frames = []
    while pos < end:
        header = int.from_bytes(data[pos : pos + 4], "big")
        assert header >> 21 == 0x7FF, f"no frame sync at byte {pos}"
        version = {0: 25, 2: 2, 3: 1}[(header >> 19) & 3]
        layer = 4 - ((header >> 17) & 3)
        kbps = MPEG2_LAYER3_KBPS[(header >> 12) & 15]
        rate = MPEG2_RATES[(header >> 10) & 3]
        frame = Mp3Frame(version, layer, kbps, rate, (header >> 6) & 3)
        assert (version, layer) == (2, 3), frame  # the tables above are MPEG-2 Layer III's
        assert kbps and rate, frame
        frames.append(frame)
        pos += 72 * kbps * 1000 // rate + ((header >> 9) & 1)  # 576 samples per frame
    assert pos == end, "the last frame runs past the end of the file"
    return frames
