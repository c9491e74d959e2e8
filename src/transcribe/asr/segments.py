"""From faster-whisper's segments to a channel's words: the hallucination guards and the clocks.

Both decode paths end here: a channel decoded in a call of its own (`Transcriber._decode`) and
a channel whose windows shared a call with other channels' (`batcher.WindowBatcher`). In the
shared call each channel's packed signal sits at `base` seconds of one long signal, so times
come back `base` too late; `local_time` takes them back to the channel's packed clock exactly.

Whisper invents words for sound that is not speech (babble, reversed speech, music) and says
so, a little, in its own signals. Two guards read them:

- a window (up to 30 s of packed speech regions) is not speech when the model rates it so
  (`no_speech_prob` above 0.5), or rates it half so (above 0.35) and its text is also
  unlikely (average log-probability below -1), repetitive (compression ratio above 2.0) or
  too sparse for the speech VAD found (under one word per 1.5 s): real speech, even quiet or
  telephone-band, has none of these together. Its regions are `silent`, and not decoded again.
- a segment is dropped when it is Whisper's own "no speech" (no-speech probability above 0.6
  with a log-probability below -1) or a repetition loop (compression ratio above 2.4).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from faster_whisper.transcribe import Segment

from transcribe.asr.packing import Packing, unpack
from transcribe.audio import SAMPLE_RATE
from transcribe.document import TimedWord

log = logging.getLogger(__name__)

# Whisper's own thresholds for "this segment held no speech" and "this is a repetition loop".
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
# A window's thresholds (measured with bench/accuracy.py: no word of the 17 clips, clean or
# telephone, is lost; babble, reversed speech and crowds give next to none).
WINDOW_NO_SPEECH_PROB = 0.5
WINDOW_DOUBT = 0.35
WINDOW_COMPRESSION_RATIO = 2.0
SECONDS_PER_WORD = 1.5
FRAMES_PER_SECOND = 100  # Whisper's; a segment's `seek` counts these


@dataclass(frozen=True)
class Heard:
    """A decode's words on the channel's clock, and the speech regions (channel samples) of
    windows the guard judged not to be speech."""

    words: list[TimedWord] = field(default_factory=list)
    silent: list[tuple[int, int]] = field(default_factory=list)


def is_hallucination(segment: Segment) -> bool:
    silent = segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB
    return bool(silent or segment.compression_ratio > MAX_COMPRESSION_RATIO)


def is_not_speech(segments: list[Segment], speech_s: float) -> bool:
    """The window guard: the model's signals over one window's segments (see above)."""
    if not segments:
        return False
    no_speech = max(s.no_speech_prob for s in segments)
    if no_speech > WINDOW_NO_SPEECH_PROB:
        return True
    if no_speech <= WINDOW_DOUBT:
        return False
    words = sum(len(s.words or []) for s in segments)
    logprob = sum(s.avg_logprob for s in segments) / len(segments)
    compression = max(s.compression_ratio for s in segments)
    return (
        logprob < LOW_LOGPROB
        or compression > WINDOW_COMPRESSION_RATIO
        or words < speech_s / SECONDS_PER_WORD
    )


def local_time(t: float, base: int) -> float:
    """A time `base` (whole seconds) into a shared signal, on its own packed clock again.

    faster-whisper rounds word times to 10 ms; `base + t` rounded and less `base` is that same
    10 ms step give or take 1e-14, so it is rounded again to be bit for bit what a call of its
    own gives (word timing cuts frames at 10 ms edges, where 1e-14 can move a word a frame).
    A time that was not on a 10 ms step (a heuristic's) is only shifted.
    """
    if not base:
        return t
    shifted = float(t) - base
    stepped = round(shifted, 2)
    return stepped if abs(stepped - shifted) < 1e-9 else shifted


def window_seek(sample: int) -> int:
    """The `seek` faster-whisper gives the segments of a window that starts at `sample` (its
    own arithmetic: the frame of the window's first sample)."""
    return int(sample / SAMPLE_RATE * FRAMES_PER_SECOND)


def _by_window(
    segments: Iterable[Segment], packing: Packing, base: int
) -> Iterator[tuple[int, list[Segment]]]:
    """Each window's index and its segments, as they are decoded (windows come back in order,
    each segment with its window's `window_seek`)."""
    seeks = [window_seek(int(a * SAMPLE_RATE)) for a, _ in packing.windows]
    current = 0
    group: list[Segment] = []
    for segment in segments:
        index = max(0, bisect.bisect_right(seeks, segment.seek - base * FRAMES_PER_SECOND) - 1)
        if index != current and group:
            yield current, group
            group = []
        current = index
        group.append(segment)
    if group:
        yield current, group


def words_of(
    segments: Iterable[Segment],
    packing: Packing,
    progress: Callable[[float], None] | None,
    base: int = 0,
) -> Heard:
    """The words of a channel's decoded segments, on the channel's clock; hallucinations dropped.

    `progress`, if given, hears how far into the channel (seconds) each window reached.
    """
    words: list[TimedWord] = []
    silent: list[tuple[int, int]] = []
    for index, group in _by_window(segments, packing, base):
        start, end = packing.windows[index]
        low, high = round(start * SAMPLE_RATE), round(end * SAMPLE_RATE)
        regions = [r for r in packing.regions if low <= r.packed_start < high]
        if progress is not None and regions:
            progress(regions[-1].end / SAMPLE_RATE)
        speech_s = sum(r.length for r in regions) / SAMPLE_RATE
        if is_not_speech(group, speech_s):
            log.debug("window %.2f-%.2f is not speech: %r", start, end, [s.text for s in group])
            silent.extend((r.start, r.end) for r in regions)
            continue
        for segment in group:
            if is_hallucination(segment):
                log.debug("dropped segment %.2f-%.2f %r", segment.start, segment.end, segment.text)
                continue
            words.extend(
                TimedWord(
                    text=w.word,
                    start=local_time(w.start, base),
                    end=local_time(w.end, base),
                    probability=w.probability,
                )
                for w in segment.words or []
            )
    return Heard(words=unpack(words, packing), silent=silent)
