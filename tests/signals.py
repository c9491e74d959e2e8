"""Synthetic signals and call layouts built in code for the tests (tones, noise, DTMF, calls)."""

from __future__ import annotations

import numpy as np

from transcribe.audio import SAMPLE_RATE, FloatArray

DTMF = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip


def seconds(n: float) -> int:
    return round(n * SAMPLE_RATE)


def tone(freq: float, duration: float, dbfs: float = -6.0) -> FloatArray:
    t = np.arange(seconds(duration)) / SAMPLE_RATE
    return (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def white_noise(duration: float, dbfs: float, seed: int = 0) -> FloatArray:
    """Gaussian noise whose RMS is `dbfs` relative to full scale."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(seconds(duration)) * 10 ** (dbfs / 20)).astype(np.float32)


def dtmf(digits: str, on: float = 0.1, off: float = 0.1, dbfs: float = -10.0) -> FloatArray:
    """Keypad digits as their two ITU-T Q.23 tones, each digit `on` seconds then `off` silence."""
    parts = []
    for d in digits:
        low, high = DTMF[d]
        parts.append((tone(low, on, dbfs - 3) + tone(high, on, dbfs - 3)).astype(np.float32))
        parts.append(np.zeros(seconds(off), np.float32))
    return np.concatenate(parts)


def place(length: int, pieces: list[tuple[float, FloatArray]]) -> FloatArray:
    """A channel of `length` samples with each piece added at its offset in seconds."""
    out = np.zeros(length, np.float32)
    for offset, piece in pieces:
        start = seconds(offset)
        out[start : start + len(piece)] += piece[: length - start]
    return out


def speech_onset(samples: FloatArray, frame: float = 0.02) -> float:
    """Seconds to the first 20 ms frame whose level is halfway (in dB) from floor to peak.

    Halfway, not a fixed distance below the peak, so a clip with a high noise floor (some
    LibriSpeech recordings sit at -50 dBFS) does not count its hiss as speech.
    """
    n = seconds(frame)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) + 1e-12
    level = 20 * np.log10(rms)
    floor, peak = float(np.percentile(level, 20)), float(level.max())
    first = int(np.argmax(level >= floor + (peak - floor) / 2))
    return first * frame


def speech_offset(samples: FloatArray, frame: float = 0.02) -> float:
    """Seconds to the end of the last 20 ms frame at least halfway (in dB) from floor to peak:
    the end of the last word, by the same measure as `speech_onset`."""
    n = seconds(frame)
    frames = samples[: len(samples) // n * n].reshape(-1, n)
    rms = np.sqrt((frames.astype(np.float64) ** 2).mean(axis=1)) + 1e-12
    level = 20 * np.log10(rms)
    floor, peak = float(np.percentile(level, 20)), float(level.max())
    loud = np.nonzero(level >= floor + (peak - floor) / 2)[0]
    return float(loud[-1] + 1) * frame


def find_offset(haystack: FloatArray, needle: FloatArray) -> tuple[float, float]:
    """Where `needle` best lines up inside `haystack` by cross-correlation: (seconds, match),
    match being the normalised correlation there (1.0 for an exact copy, ~0 for unrelated)."""
    size = 1 << int(np.ceil(np.log2(len(haystack) + len(needle))))
    spectrum = np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(needle, size))
    correlation = np.fft.irfft(spectrum, size)[: len(haystack)]
    lag = int(np.argmax(correlation))
    window = haystack[lag : lag + len(needle)].astype(np.float64)
    energy = float(np.sqrt((window**2).sum() * (needle.astype(np.float64) ** 2).sum())) + 1e-12
    return lag / SAMPLE_RATE, float(correlation[lag]) / energy
