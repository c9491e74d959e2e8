"""Packing a channel's speech into Whisper windows, and mapping times back.

A 30 s Whisper window costs the same to encode however little speech it holds, so a call's
turns (a few seconds each, with long silences while the other side talks) are packed
together: each speech region found by Silero VAD is copied into a packed signal with a short
pause between regions, and windows of at most 30 s are cut at region boundaries. Keeping a
pause (rather than butting regions together, as faster-whisper's own VAD path does) lets the
model hear where one turn ends; cutting at boundaries means no word is split between windows.

Whisper sometimes stops decoding a window early and drops the rest of it (the rest of a long
region, and the regions after it), and a window that holds the same sentence several times (a
caller repeating themselves, a recorded prompt played again) is decoded as a skipping
repetition the hallucination guard rightly drops. In both cases `missing_regions` finds the
regions, or the stretches of a region, that got no words, and the caller decodes them again,
packed together and then each in a window of its own (`pack(..., window_s=0)`): alone, a
region is neither cut short by what follows it nor a repetition of its neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions

from transcribe.asr.timing import MAX_WORD_S
from transcribe.asr.vad import speech_regions
from transcribe.audio import SAMPLE_RATE, FloatArray
from transcribe.document import TimedWord

WINDOW_S = 30.0
PAUSE_S = 0.5
# Silero settings: regions split at 500 ms pauses, padded by 200 ms, never longer than a window.
# Speech from a probability of 0.25, not Silero's 0.5: telephone-band and quiet speech rates
# lower, and at 0.5 lost word edges and whole short words (bench/accuracy.py); the sound this
# lets in that is not speech is for the window guard (segments.py).
VAD = VadOptions(
    threshold=0.25, min_silence_duration_ms=500, speech_pad_ms=200, max_speech_duration_s=28.0
)
# Every region starts with VAD's pad of sound before its speech, but one at the very start of
# the recording (a call recorded from the answer: "Hello?") has none to take, and Whisper, hearing
# speech at a window's first frame, misreads the first word ("four queen" came back "for
# queen"). Packing gives such a region the rest of the pad as silence.
PAD = round(VAD.speech_pad_ms * SAMPLE_RATE / 1000)
# A region this long that got no words at all was dropped by the decoder, not silent; and so
# was a stretch this long without words inside a region that got some.
MISSED_REGION_S = 1.0
MISSED_GAP_S = 2.0


@dataclass(frozen=True)
class Region:
    """A stretch of speech: where it is in the channel and where it was put in the packing."""

    start: int  # samples, in the channel
    end: int
    packed_start: int  # samples, in the packed signal

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Packing:
    samples: FloatArray
    regions: list[Region]
    windows: list[tuple[float, float]]  # seconds in `samples`, each at most WINDOW_S


def find_speech(samples: FloatArray) -> list[tuple[int, int]]:
    """Speech regions (start, end) in samples, by Silero VAD (in bounded memory: `vad.py`)."""
    return speech_regions(samples, VAD)


def pack(samples: FloatArray, speech: list[tuple[int, int]], window_s: float = WINDOW_S) -> Packing:
    """Copy each region into one signal with pauses between, windows cut at boundaries.

    `window_s` caps a window's length; 0 gives each region a window of its own.
    """
    pause = round(PAUSE_S * SAMPLE_RATE)
    limit = round(min(window_s, WINDOW_S) * SAMPLE_RATE)
    regions: list[Region] = []
    windows: list[tuple[float, float]] = []
    position = window_start = 0
    for start, end in speech:
        if position > window_start and position + (end - start) - window_start > limit:
            windows.append((window_start / SAMPLE_RATE, (position - pause) / SAMPLE_RATE))
            window_start = position
        position += max(0, PAD - start)  # silence for the pad the recording's start lacks
        regions.append(Region(start, end, position))
        position += (end - start) + pause
    if position > window_start:
        windows.append((window_start / SAMPLE_RATE, (position - pause) / SAMPLE_RATE))
    packed = np.zeros(position, np.float32)
    for region in regions:
        packed[region.packed_start : region.packed_start + region.length] = samples[
            region.start : region.end
        ]
    return Packing(samples=packed, regions=regions, windows=windows)


def unpack(words: list[TimedWord], packing: Packing) -> list[TimedWord]:
    """Words timed in the packed signal, moved back to the channel's own clock.

    Each word belongs to the region its midpoint falls in (or the nearest one, for a word the
    model placed in a pause); its times are shifted with that region and kept inside it.
    """
    if not packing.regions:
        return []
    starts = np.array([r.packed_start for r in packing.regions])
    out = []
    for word in words:
        middle = round((word.start + word.end) / 2 * SAMPLE_RATE)
        index = max(0, int(np.searchsorted(starts, middle, side="right")) - 1)
        region = packing.regions[index]
        if middle > region.packed_start + region.length and index + 1 < len(packing.regions):
            after = middle - (region.packed_start + region.length)  # in the pause that follows
            if packing.regions[index + 1].packed_start - middle < after:
                region = packing.regions[index + 1]
        shift = (region.start - region.packed_start) / SAMPLE_RATE
        low, high = region.start / SAMPLE_RATE, region.end / SAMPLE_RATE
        start = min(max(word.start + shift, low), high)
        end = min(max(word.end + shift, start), high)
        out.append(TimedWord(text=word.text, start=start, end=end, probability=word.probability))
    return out


def missing_regions(words: list[TimedWord], speech: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Stretches of speech (samples, on the channel clock) the decoder gave no words: a region
    of at least MISSED_REGION_S with none, and, in a region with words, a stretch of at least
    MISSED_GAP_S before, between or after them (Whisper stopped a window part-way through a
    long region: VAD splits regions at 500 ms of silence, so seconds without a word are not a
    pause). A word longer than MAX_WORD_S covers nothing: it is the decoder's last word before
    what it skipped, its time stretched over it ("heaven." at the end of one turn lay over the
    whole next one, which was never decoded)."""
    spans = sorted(
        (
            (round(w.start * SAMPLE_RATE), round(w.end * SAMPLE_RATE))
            for w in words
            if w.end - w.start <= MAX_WORD_S
        ),
        key=sum,
    )  # by midpoint
    middles = np.array([(a + b) / 2 for a, b in spans])
    gap = MISSED_GAP_S * SAMPLE_RATE
    missed = []
    for start, end in speech:
        first, last = np.searchsorted(middles, [start, end + 1])
        if first == last:
            if end - start >= MISSED_REGION_S * SAMPLE_RATE:
                missed.append((start, end))
            continue
        cursor = start
        for word_start, word_end in spans[first:last]:
            if word_start - cursor >= gap:
                missed.append((cursor, word_start))
            cursor = max(cursor, word_end)
        if end - cursor >= gap:
            missed.append((cursor, end))
    return missed
