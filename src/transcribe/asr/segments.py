"""From faster-whisper's segments to a channel's words: the hallucination guards and the clocks.

Both decode paths end here: a channel decoded in a call of its own (`Transcriber._decode`) and
a channel whose windows shared a call with other channels' (`batcher.WindowBatcher`). In the
shared call each channel's packed signal sits at `base` seconds of one long signal, so times
come back `base` too late; `local_time` takes them back to the channel's packed clock exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from faster_whisper.transcribe import Segment

from transcribe.asr.packing import Packing, unpack
from transcribe.document import TimedWord

log = logging.getLogger(__name__)

# Whisper's own thresholds for "this window held no speech" and "this is a repetition loop".
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4


def is_hallucination(segment: Segment) -> bool:
    silent = segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB
    return bool(silent or segment.compression_ratio > MAX_COMPRESSION_RATIO)


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


def words_of(
    segments: Iterable[Segment],
    packing: Packing,
    progress: Callable[[float], None] | None,
    base: int = 0,
) -> list[TimedWord]:
    """The words of a channel's decoded segments, on the channel's clock; hallucinations dropped.

    `progress`, if given, hears how far into the channel (seconds) each segment reached.
    """
    words: list[TimedWord] = []
    for segment in segments:
        if progress is not None:
            end = local_time(segment.end, base)
            progress(unpack([TimedWord("", end, end, 1.0)], packing)[0].end)
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
    return unpack(words, packing)
