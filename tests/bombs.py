"""Small files that decode into a lot of audio (the decompression bombs of the hardening
issue), and damaged files. Written block by block, so making them costs the test little."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf


def silent_file(
    path: Path, seconds: float, channels: int = 1, rate: int = 16_000, **format: str
) -> Path:
    """Digital silence: FLAC keeps 2 h 10 min of it in 394 kB, Vorbis 32 channels x 10 min
    at 8 kHz in 117 kB."""
    block = np.zeros((rate * 10, channels), np.int16)
    with sf.SoundFile(path, "w", rate, channels, **format) as f:
        for _ in range(int(seconds // 10)):
            f.write(block)
        f.write(block[: round((seconds % 10) * rate)])
    return path


def flac_bomb(folder: Path) -> Path:
    """The issue's FLAC: 2 h 10 min of silence, mono 16 kHz, 394 kB (2.5 GB decoded whole)."""
    return silent_file(folder / "long.flac", 130 * 60, subtype="PCM_16")


def ogg_bomb(folder: Path) -> Path:
    """The issue's OGG: 32 channels x 10 min of silence at 8 kHz, 117 kB (4.4 GB decoded whole
    with the resampling): within the limits, so it must be transcribed, a channel at a time."""
    return silent_file(folder / "wide.ogg", 600, 32, 8000, format="OGG", subtype="VORBIS")


def cut(source: Path, path: Path, fraction: float = 0.5) -> Path:
    """The first `fraction` of a file's bytes, as a transfer cut short leaves it."""
    whole = source.read_bytes()
    path.write_bytes(whole[: round(len(whole) * fraction)])
    return path


def damaged(source: Path, path: Path, at: float = 0.5, length: int = 2000) -> Path:
    """A file with `length` bytes of noise written over it at `at` of the way in."""
    data = bytearray(source.read_bytes())
    start = round(len(data) * at)
    data[start : start + length] = np.random.default_rng(7).bytes(length)
    path.write_bytes(bytes(data))
    return path
