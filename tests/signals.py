"""Synthetic signals and call layouts built in code for the tests (tones, noise, DTMF, calls)
and for bench/accuracy.py (babble, hold music, line noise, comfort noise)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

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


def rms_dbfs(samples: FloatArray) -> float:
    """RMS level relative to full scale (a full-scale square wave is 0 dBFS)."""
    return float(10 * np.log10(np.mean(samples.astype(np.float64) ** 2) + 1e-20))


def at_dbfs(samples: FloatArray, dbfs: float) -> FloatArray:
    """`samples` scaled so that their RMS is `dbfs`, clipped to full scale."""
    gain = float(10 ** ((dbfs - rms_dbfs(samples)) / 20))
    scaled: FloatArray = np.clip(samples * gain, -1.0, 1.0).astype(np.float32)
    return scaled


def babble(
    clips: Sequence[FloatArray],
    duration: float,
    voices: int = 7,
    dbfs: float = -20.0,
    seed: int = 0,
) -> FloatArray:
    """Many people talking at once, none of them intelligible: `voices` streams of the clips
    played backwards (each stream every clip in its own random order, starting at a random
    point and looped), each at the same level, summed and brought to `dbfs` RMS.

    Reversed speech keeps speech's spectrum and rhythm but has no words in it, so whatever
    a recogniser writes on it is invented: the room tone of a call centre.
    """
    rng = np.random.default_rng(seed)
    length = seconds(duration)
    out = np.zeros(length, np.float64)
    for _ in range(voices):
        order = rng.permutation(len(clips))
        stream = np.concatenate([clips[i][::-1] for i in order]).astype(np.float64)
        stream /= np.sqrt(np.mean(stream**2)) + 1e-12
        start = int(rng.integers(len(stream)))
        out += np.resize(np.roll(stream, -start), length)
    return at_dbfs(out.astype(np.float32), dbfs)


def hold_music(duration: float, dbfs: float = -20.0, seed: int = 0) -> FloatArray:
    """A looped 8-second tune: four bars of chords (I-V-vi-IV in C, soft sine tones with two
    overtones) under a melody of eighth notes picked from each chord, brought to `dbfs` RMS.
    Notes rise and fade (no clicks), as the music on a call centre's hold line does."""
    rng = np.random.default_rng(seed)
    bar = 2.0  # seconds: 120 bpm in 4/4
    chords = ((60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60))  # MIDI notes
    loop = np.zeros(seconds(bar * len(chords)), np.float64)

    def note(midi: float, length: float, level: float) -> npt.NDArray[np.float64]:
        t = np.arange(seconds(length)) / SAMPLE_RATE
        freq = 440.0 * 2 ** ((midi - 69) / 12)
        wave = sum(a * np.sin(2 * np.pi * k * freq * t) for k, a in ((1, 1.0), (2, 0.3), (3, 0.1)))
        envelope = np.minimum(t / 0.02, 1.0) * np.exp(-3.0 * t / length)
        return np.asarray(level * wave * envelope, np.float64)

    eighth = bar / 8
    for index, chord in enumerate(chords):
        start = seconds(index * bar)
        for midi in chord:
            piece = note(midi - 12, bar, 0.25)
            loop[start : start + len(piece)] += piece
        for step in range(8):
            midi = chord[int(rng.integers(len(chord)))] + 12 * int(rng.integers(0, 2))
            piece = note(midi, eighth, 0.5)
            at = start + seconds(step * eighth)
            loop[at : at + len(piece)] += piece[: len(loop) - at]
    return at_dbfs(np.resize(loop, seconds(duration)).astype(np.float32), dbfs)


def line_noise(
    duration: float,
    mains: float = 50.0,
    hum_dbfs: float = -40.0,
    noise_dbfs: float = -45.0,
    seed: int = 0,
) -> FloatArray:
    """A bad line with nobody on it: mains hum (`mains` Hz and its odd and even harmonics up
    to the 7th, falling off, at `hum_dbfs` RMS) over white noise at `noise_dbfs` RMS."""
    t = np.arange(seconds(duration)) / SAMPLE_RATE
    phases = np.random.default_rng(seed).uniform(0, 2 * np.pi, 7)
    hum = sum(np.sin(2 * np.pi * k * mains * t + phases[k - 1]) / k for k in range(1, 8))
    hum_part = at_dbfs(np.asarray(hum, np.float32), hum_dbfs)
    return (hum_part + white_noise(duration, noise_dbfs, seed)).astype(np.float32)


def pink_noise(duration: float, dbfs: float = -60.0, seed: int = 0) -> FloatArray:
    """Noise whose power falls 3 dB an octave (1/f), at `dbfs` RMS: the comfort noise a
    phone system plays in silence so the line does not sound dead."""
    length = seconds(duration)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(length))
    freqs = np.fft.rfftfreq(length, 1 / SAMPLE_RATE)
    spectrum /= np.sqrt(np.maximum(freqs, 20.0))  # flat below 20 Hz: no DC drift
    return at_dbfs(np.fft.irfft(spectrum, length).astype(np.float32), dbfs)
