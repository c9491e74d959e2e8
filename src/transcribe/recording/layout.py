"""Where each leg goes in the file, how legs are summed without wrapping, and the start beep.

One rule covers every layout: leg k (in join order, from 0) goes to channel min(k, N - 1).
Mono is N = 1 (everyone in one channel), split is N = 2 (the initial caller left, everyone
the caller heard right), and `channels: N` is leg k in channel k with the rest in the last.
"""

from __future__ import annotations

import numpy as np

from transcribe.audio import SAMPLE_RATE, FloatArray

LIMIT_KNEE = 0.9
"""Samples up to this level pass unchanged; louder peaks are bent smoothly towards full scale."""

BEEP_HZ = 1000.0
BEEP_SECONDS = 0.3
BEEP_DBFS = -10.0
_BEEP_FADE_SECONDS = 0.01


def channel_for_leg(leg_index: int, channels: int) -> int:
    """The channel (from 0) of the leg that joined `leg_index`-th (from 0)."""
    return min(leg_index, channels - 1)


def soft_limit(block: FloatArray) -> None:
    """Bend peaks above the knee so a sum of loud legs stays inside full scale, in place.

    A sum of two legs can exceed full scale; converting that to 16-bit would clip hard (or,
    done naively, wrap around to the opposite sign: a loud crack). Below the knee the audio is
    untouched, so a single leg at normal level is recorded bit for bit; above it the curve is
    continuous with slope 1 at the knee and approaches 1.0 without reaching it.
    """
    magnitude = np.abs(block)
    if not block.size or float(magnitude.max()) <= LIMIT_KNEE:
        return
    loud = magnitude > LIMIT_KNEE
    headroom = 1.0 - LIMIT_KNEE
    bent = LIMIT_KNEE + headroom * np.tanh((magnitude[loud] - LIMIT_KNEE) / headroom)
    block[loud] = np.copysign(bent, block[loud]).astype(np.float32)


def beep_tone() -> FloatArray:
    """The `beepStart` beep: a short 1 kHz tone with 10 ms fades so it does not click."""
    n = round(BEEP_SECONDS * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    beep = 10 ** (BEEP_DBFS / 20) * np.sin(2 * np.pi * BEEP_HZ * t)
    fade = round(_BEEP_FADE_SECONDS * SAMPLE_RATE)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    beep[:fade] *= ramp
    beep[n - fade :] *= ramp[::-1]
    return beep.astype(np.float32)
