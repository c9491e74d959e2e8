"""Rendering a recording offline from per-leg audio: uploads and `transcribe record`.

The legs go through the same `Recorder` as live legs, fed in clock order: at every step the
leg that is furthest behind gets its next block. So the legs never drift more than one block
apart, the recorder writes as it goes, and memory stays flat however long the call.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from transcribe.audio import SAMPLE_RATE, FloatArray, stream_audio
from transcribe.errors import InvalidRequestError
from transcribe.ncco import RecordAction
from transcribe.recording.encoders import replacing
from transcribe.recording.engine import Recorder, RecordingResult


@dataclass(frozen=True)
class LegFile:
    """One leg's audio file (any format and rate `load_audio` takes) and when it joined."""

    path: Path
    offset: float = 0.0


@dataclass(frozen=True)
class LegSource:
    """One leg's audio as mono blocks at `sample_rate` (8 or 16 kHz), and when it joined."""

    blocks: Iterable[FloatArray]
    offset: float = 0.0
    sample_rate: int = SAMPLE_RATE


def render_files(options: RecordAction, legs: Sequence[LegFile], path: Path) -> RecordingResult:
    """Render per-leg files, in join order, into one recording at `path`.

    Every file is checked before the recording is started, so a bad leg fails fast. A leg of
    any length is fine: it streams, and the recording stops at its `timeOut`.
    """
    for leg in legs:
        if leg.offset < 0:
            raise InvalidRequestError(
                f"{leg.path}: a leg cannot join before the recording starts", field="offset"
            )
    streams = [stream_audio(leg.path, max_seconds=math.inf) for leg in legs]
    sources = [
        LegSource(blocks=_mono(stream), offset=leg.offset)
        for leg, stream in zip(legs, streams, strict=True)
    ]
    return render(options, sources, path)


def render(options: RecordAction, sources: Sequence[LegSource], path: Path) -> RecordingResult:
    """Feed each leg's blocks to a Recorder in clock order and finish when all are spent.

    The recording is written beside `path` and renamed onto it once finished: `path` never
    holds a partial recording, and a file there already survives a render that fails."""
    with replacing(path) as partial:
        result = _record(options, sources, partial)
    return replace(result, path=path)


def _record(options: RecordAction, sources: Sequence[LegSource], path: Path) -> RecordingResult:
    recorder = Recorder(options, path, max_lag=None)  # no leg stalls here: nothing to give up on
    legs = [
        recorder.add_leg(f"leg{k + 1}", source.sample_rate, source.offset)
        for k, source in enumerate(sources)
    ]
    iterators = [iter(source.blocks) for source in sources]
    sent = [0] * len(sources)  # samples written per leg, at its own rate
    queue = [(source.offset, k) for k, source in enumerate(sources)]
    heapq.heapify(queue)
    try:
        while queue and not recorder.ended:
            at, k = heapq.heappop(queue)
            block = next(iterators[k], None)
            if block is None:
                legs[k].close()
                continue
            legs[k].write(block, at=at)
            sent[k] += len(block)
            heapq.heappush(queue, (sources[k].offset + sent[k] / sources[k].sample_rate, k))
        return recorder.finish()
    except BaseException:
        recorder.abort()  # no half-written recording left behind
        raise


def _mono(blocks: Iterator[FloatArray]) -> Iterator[FloatArray]:
    """A leg is one voice: a stereo leg file is mixed down by averaging its channels."""
    for block in blocks:
        yield block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype="float32")
