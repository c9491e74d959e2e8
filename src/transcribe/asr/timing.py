"""Tightening Whisper's word times against the channel's own energy.

Whisper's word timestamps come from cross-attention and tend to start a phrase early, at the
edge of the VAD chunk (which is padded with silence), and to stretch its last word into the
pause after it. The audio itself says where sound is: a word edge that falls in a stretch
quieter than the channel's noise floor is moved inwards to the first (or last) frame with
sound in it. Edges only ever move inwards, so a word never grows or crosses a neighbour.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from transcribe.audio import SAMPLE_RATE, FloatArray
from transcribe.document import TimedWord

FRAME_S = 0.01
# A frame is "sound" when it is this far above the channel's noise floor.
ABOVE_FLOOR_DB = 12.0
# The floor is taken at this percentile of frame levels, never below SILENCE_DB.
FLOOR_PERCENTILE = 20
SILENCE_DB = -70.0
MIN_WORD_S = 0.02
_LEVEL_FRAMES = 6_000  # a minute of frames per step of `frame_levels`


def frame_levels(samples: FloatArray) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of each 10 ms frame.

    Computed `_LEVEL_FRAMES` frames at a time: each frame's level is its own sum, so the result
    is the same as in one go, without two float64 copies of a channel (1.8 GB for two hours).
    """
    n = round(FRAME_S * SAMPLE_RATE)
    count = len(samples) // n
    levels = np.zeros(count)
    for first in range(0, count, _LEVEL_FRAMES):
        last = min(count, first + _LEVEL_FRAMES)
        frames = samples[first * n : last * n].reshape(last - first, n).astype(np.float64)
        levels[first:last] = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-10)
    return levels


def tighten_word_times(words: list[TimedWord], samples: FloatArray) -> list[TimedWord]:
    """Move each word's start and end inwards out of silence, as the audio shows it."""
    if not words:  # a silent channel: its levels would tell nothing
        return words
    levels = frame_levels(samples)
    if len(levels) == 0:
        return words
    floor = max(float(np.percentile(levels, FLOOR_PERCENTILE)), SILENCE_DB)
    sound = levels >= floor + ABOVE_FLOOR_DB
    out = []
    for word in words:
        first = int(word.start / FRAME_S)
        last = min(int(np.ceil(word.end / FRAME_S)), len(sound))
        active = np.flatnonzero(sound[first:last])
        if len(active) == 0:
            out.append(word)
            continue
        start = max(word.start, (first + active[0]) * FRAME_S)
        end = min(word.end, (first + active[-1] + 1) * FRAME_S)
        if end - start < MIN_WORD_S:
            out.append(word)
            continue
        out.append(replace(word, start=start, end=end))
    return out
