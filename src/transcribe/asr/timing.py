"""Word times held to the speech the channel's own energy shows.

Whisper's word timestamps come from cross-attention and tend to start a phrase early, at the
edge of the VAD chunk (which is padded with silence), to stretch its last word into the pause
after it, and now and then to put a short word wholly inside a pause. The audio says where
sound is (frames `ABOVE_FLOOR_DB` over the channel's noise floor), and so where the pauses
are: silences longer than `MAX_GAP_S`, which split the sound into islands of speech.

`time_words` does two things, in order. First, each word is given to one island: the one it
overlaps most, or, for a word wholly inside a pause, the island before it when it ends a
phrase (punctuation) and the one after it when the word before it ended one, else the nearer
(the one after on a tie, since Whisper starts phrases early); islands never go backwards from
one word to the next. Each word is clamped into its island, and words moved out of a pause are
given slots of up to `MOVED_WORD_S` at the island's edge; the first word starts where the
island's sound does, and the last ends where it ends (when within `SNAP_S`). So no word starts,
ends or lies in a pause, and none spans one. Second, each word's edges are moved inwards to the
first (or last) frame with sound inside it (a short gap within a phrase). Edges only ever move
inwards then, so a word never grows or crosses a neighbour. Last, a word still longer than
`MAX_WORD_S` (a drawn-out sound, or music Whisper heard a word in) keeps its start and is cut
to that length: no word is 2.5 s long.

The floor is taken over the frames that are not digital silence: a leg muted between turns
would otherwise put it at -70 dBFS and make the line's hiss count as sound.
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
MAX_WORD_S = 2.0
# A silence longer than this is a pause: no word starts, ends or lies in one, none spans one.
MAX_GAP_S = 0.2
# Sound shorter than this (a click) is not an island a word can be given to.
MIN_ISLAND_S = 0.03
# A word moved out of a pause gets at most this much of the island's edge.
MOVED_WORD_S = 0.15
# An island's first word starts where its sound does, and its last ends where it ends, when
# Whisper put them within this of there (the alignment is often that late or early).
SNAP_S = 0.3
_PHRASE_END = (".", ",", "?", "!", ";", ":")
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


def time_words(words: list[TimedWord], samples: FloatArray) -> list[TimedWord]:
    """The words (in order) held to the channel's islands of speech, then tightened."""
    if not words:  # a silent channel: its levels would tell nothing
        return words
    levels = frame_levels(samples)
    if len(levels) == 0:
        return words
    heard = levels[levels > SILENCE_DB]  # digital silence (a muted leg) is not the line's floor
    floor = max(float(np.percentile(heard, FLOOR_PERCENTILE)), SILENCE_DB) if len(heard) else 0.0
    sound = levels >= floor + ABOVE_FLOOR_DB
    return tighten(clamp_to_islands(words, islands(sound)), sound)


def islands(sound: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float64], ...]:
    """(starts, ends) in seconds of the stretches of sound parted by pauses (> MAX_GAP_S),
    each from its first sound frame to the end of its last; clicks left out."""
    active = np.flatnonzero(sound)
    if len(active) == 0:
        return np.zeros(0), np.zeros(0)
    gaps = np.diff(active) - 1  # silent frames between one sound frame and the next
    cut = np.flatnonzero(gaps > round(MAX_GAP_S / FRAME_S))
    starts = np.concatenate([active[:1], active[cut + 1]]) * FRAME_S
    ends = (np.concatenate([active[cut], active[-1:]]) + 1) * FRAME_S
    kept = ends - starts >= MIN_ISLAND_S
    if not kept.any():
        return starts, ends
    return starts[kept], ends[kept]


def _island_of(
    word: TimedWord,
    before: TimedWord | None,
    starts: npt.NDArray[np.float64],
    ends: npt.NDArray[np.float64],
) -> int:
    """The island a word belongs to (see the module's docstring)."""
    first = int(np.searchsorted(ends, word.start, side="right"))  # first island ending after
    last = int(np.searchsorted(starts, word.end, side="left"))  # islands starting before end
    if first < last:  # it overlaps islands first..last-1: the one it overlaps most
        overlap = np.minimum(ends[first:last], word.end) - np.maximum(
            starts[first:last], word.start
        )
        return first + int(np.argmax(overlap))
    if first == 0 or first == len(starts):  # before the first island or after the last
        return min(first, len(starts) - 1)
    if word.text.strip().endswith(_PHRASE_END):
        return first - 1
    if before is None or before.text.strip().endswith(_PHRASE_END):
        return first
    return first - 1 if word.start - ends[first - 1] < starts[first] - word.end else first


def clamp_to_islands(
    words: list[TimedWord], found: tuple[npt.NDArray[np.float64], ...]
) -> list[TimedWord]:
    """Each word clamped into its island; words moved out of a pause share the island's edge."""
    starts, ends = found
    if len(starts) == 0:
        return words
    chosen: list[int] = []
    for i, word in enumerate(words):
        index = _island_of(word, words[i - 1] if i else None, starts, ends)
        chosen.append(max(index, chosen[-1]) if chosen else index)
    out: list[TimedWord] = []
    i = 0
    while i < len(words):
        j = i
        while j < len(words) and chosen[j] == chosen[i]:
            j += 1
        out.extend(_fit(words[i:j], float(starts[chosen[i]]), float(ends[chosen[i]])))
        i = j
    return out


def _fit(words: list[TimedWord], low: float, high: float) -> list[TimedWord]:
    """Words of one island, clamped into [low, high]; those that were wholly before (after)
    it get slots at its start (end), taken from the first (last) word inside it."""
    times = [[min(max(w.start, low), high), min(max(w.end, low), high)] for w in words]
    before = next((k for k, w in enumerate(words) if w.end > low), len(words))
    rest = words[before:]
    after = next((k for k, w in enumerate(reversed(rest)) if w.start < high), len(rest))
    inside = times[before : len(times) - after]
    if before:
        limit = inside[0][1] if inside else high - after * MOVED_WORD_S
        slot = min(MOVED_WORD_S, max(0.0, limit - low) / (before + (1 if inside else 0)))
        for k in range(before):
            times[k] = [low + k * slot, low + (k + 1) * slot]
        if inside:
            inside[0][0] = max(inside[0][0], low + before * slot)
    if after:
        limit = inside[-1][0] if inside else (times[before - 1][1] if before else low)
        slot = min(MOVED_WORD_S, max(0.0, high - limit) / (after + (1 if inside else 0)))
        for k in range(after):
            times[len(times) - after + k] = [
                high - (after - k) * slot,
                high - (after - k - 1) * slot,
            ]
        if inside:
            inside[-1][1] = min(inside[-1][1], high - after * slot)
    if times[0][0] - low <= SNAP_S:
        times[0][0] = low
    if high - times[-1][1] <= SNAP_S:
        times[-1][1] = high
    return [
        replace(w, start=round(start, 3), end=round(max(end, start), 3))
        for w, (start, end) in zip(words, times, strict=True)
    ]


def tighten(words: list[TimedWord], sound: npt.NDArray[np.bool_]) -> list[TimedWord]:
    """Move each word's start and end inwards out of silence, as the audio shows it; cut a
    word longer than MAX_WORD_S to that length from its start."""
    out = []
    for word in words:
        first = int(word.start / FRAME_S)
        last = min(int(np.ceil(word.end / FRAME_S)), len(sound))
        active = np.flatnonzero(sound[first:last])
        if len(active) == 0:
            out.append(replace(word, end=min(word.end, word.start + MAX_WORD_S)))
            continue
        start = max(word.start, (first + active[0]) * FRAME_S)
        end = min(word.end, (first + active[-1] + 1) * FRAME_S)
        if end - start < MIN_WORD_S:
            start, end = word.start, word.end
        out.append(replace(word, start=start, end=min(end, start + MAX_WORD_S)))
    return out
