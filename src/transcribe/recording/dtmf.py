"""In-band DTMF (keypad tone) detection, following the ITU-T Q.24 receiver limits.

A key press is two sine tones, one from the low group (697-941 Hz) and one from the high group
(1209-1633 Hz). Every 10 ms we measure those eight frequencies over the last 20 ms (a Goertzel
filter for each, computed together as one small matrix product) and call the window a digit
only when it looks like a key and nothing else. Each frequency is measured at its nominal
value and 1.5% either side, keeping the strongest, since Q.24 lets a keypad be 1.5% off and a
20 ms filter alone would lose half the power of a tone that far from its centre.

- both tones are present, each at least `MIN_TONE_DBFS`;
- twist (high tone level minus low tone level) is within +4 / -8 dB;
- each tone is at least 8 dB above the other frequencies of its group;
- the two tones carry at least 70% of the window's energy. Speech spreads its energy over many
  harmonics, so this is what keeps talking from ever pressing a key. It also means a window
  must be at least ~70% covered by the tone.

A digit is reported when three windows in a row agree (30 ms of windows over 40 ms of audio).
So every tone of 40 ms or more is detected, as Q.24 requires, and tones shorter than ~28 ms
never are.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from transcribe.audio import SAMPLE_RATE, FloatArray

LOW_HZ = (697.0, 770.0, 852.0, 941.0)
HIGH_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = "123A456B789C*0#D"  # row (low tone) major: KEYS[4 * low + high]

WINDOW = 320  # 20 ms
HOP = 160  # 10 ms
MIN_WINDOWS = 3

DEVIATIONS = (-0.015, 0.0, 0.015)

MIN_TONE_DBFS = -40.0  # peak amplitude of each tone
MAX_TWIST_DB = 4.0  # high tone louder than the low one ("standard twist")
MAX_REVERSE_TWIST_DB = 8.0  # high tone quieter than the low one
MIN_PEAK_RATIO_DB = 8.0
MIN_ENERGY_SHARE = 0.7


def _basis() -> npt.NDArray[np.float32]:
    """Cosine then sine columns for each deviation (outer) of each of the eight frequencies."""
    n = np.arange(WINDOW)[:, None]
    nominal = np.array(LOW_HZ + HIGH_HZ)
    freqs = np.concatenate([nominal * (1 + d) for d in DEVIATIONS])[None, :]
    phase = 2 * np.pi * freqs * n / SAMPLE_RATE
    return np.concatenate([np.cos(phase), np.sin(phase)], axis=1).astype(np.float32)


class DtmfDetector:
    """Feeds on one leg's 16 kHz audio, in chunks of any size; reports digits as they appear."""

    def __init__(self) -> None:
        self._basis = _basis()
        self._pending = np.zeros(0, np.float32)  # samples not yet the start of a full window
        self._pending_at = 0  # stream position of _pending[0]
        self._digit = -1
        self._run = 0

    def feed(self, samples: FloatArray) -> list[tuple[str, int]]:
        """Digits that became valid in this chunk, each with the stream position (in samples
        from the first one fed) at which it did: the end of its third window.
        """
        buffer = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        windows = max(0, (len(buffer) - WINDOW) // HOP + 1)
        found: list[tuple[str, int]] = []
        if windows:
            digits = self._classify(buffer[: (windows - 1) * HOP + WINDOW], windows)
            found = self._track(digits)
        consumed = windows * HOP
        self._pending = buffer[consumed:].copy()
        self._pending_at += consumed
        return found

    def skip(self, count: int) -> None:
        """`count` samples of silence went by (the leg sent nothing): cheaper than feeding zeros."""
        self._pending = np.zeros(0, np.float32)
        self._pending_at += count
        self._digit, self._run = -1, 0

    def _classify(self, buffer: FloatArray, windows: int) -> npt.NDArray[np.int64]:
        """For each window, the index into KEYS of the digit it holds, or -1."""
        frames = np.lib.stride_tricks.sliding_window_view(buffer, WINDOW)[::HOP][:windows]
        spectrum = frames @ self._basis
        probes = spectrum.shape[1] // 2
        # Power of a sine of amplitude A is A²/2; its DFT magnitude over N samples is A·N/2.
        power = (spectrum[:, :probes] ** 2 + spectrum[:, probes:] ** 2) * (2.0 / WINDOW**2)
        power = power.reshape(windows, len(DEVIATIONS), 8).max(axis=1)
        total = np.einsum("ij,ij->i", frames, frames) / WINDOW
        low, high = power[:, :4], power[:, 4:]
        row, col = low.argmax(axis=1), high.argmax(axis=1)
        index = np.arange(windows)
        p_low, p_high = low[index, row], high[index, col]
        second_low = np.partition(low, 2, axis=1)[:, 2]
        second_high = np.partition(high, 2, axis=1)[:, 2]
        min_power = 10 ** (MIN_TONE_DBFS / 10) / 2
        peak = 10 ** (MIN_PEAK_RATIO_DB / 10)
        valid = (
            (p_low >= min_power)
            & (p_high >= min_power)
            & (p_high <= p_low * 10 ** (MAX_TWIST_DB / 10))
            & (p_high >= p_low * 10 ** (-MAX_REVERSE_TWIST_DB / 10))
            & (p_low >= peak * second_low)
            & (p_high >= peak * second_high)
            & (p_low + p_high >= MIN_ENERGY_SHARE * total)
        )
        return np.where(valid, 4 * row + col, -1)

    def _track(self, digits: npt.NDArray[np.int64]) -> list[tuple[str, int]]:
        """Count runs of equal windows across chunks; report a digit when its run reaches three."""
        if (digits < 0).all():
            self._digit, self._run = -1, 0
            return []
        found = []
        for k, digit in enumerate(digits.tolist()):
            if digit == self._digit:
                self._run += 1
            else:
                self._digit, self._run = digit, 1
            if digit >= 0 and self._run == MIN_WINDOWS:
                found.append((KEYS[digit], self._pending_at + k * HOP + WINDOW))
        return found
