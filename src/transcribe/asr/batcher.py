"""Decoding the speech windows of many channels, of many jobs at once, in shared batches.

On a GPU one channel's windows leave most of a batch empty: a 2-minute call's channel packs
into two or three 30 s windows, and a batch holds `batch_size` (16). So with batching across
jobs one decode thread takes every channel's windows (`WindowBatcher.submit`, from the channel
threads of every transcription running in the process), waits up to `batch_wait_ms` for a
batch's worth, and decodes them in ONE `BatchedInferencePipeline.transcribe` call: the requests'
packed signals are laid end to end in one signal (each at a whole second, `base`), their
windows offset to match, so a batch holds windows of different channels and different jobs.
The segments come back in window order and go back to their request by the window they came
from (`Segment.seek`); each caller's Future gets its channel's words.

What a channel gets is what a call of its own gives (the tests compare word for word): every
window is cut, padded and decoded alone (no prompt, no conditioning on earlier text), its clip
boundaries are passed so that faster-whisper cuts exactly the samples it would have cut, and
times are moved back to the channel's clock exactly (`segments.local_time`).

Requests of different languages never share a call (the prompt names the language). A call
that fails is retried one request at a time, so a bad request fails only its own caller; an
error in one request's own step (its progress callback) fails only that request. The thread
is a daemon, started on the first request; `close()` lets it finish what it was given.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import Segment

from transcribe.asr.packing import Packing
from transcribe.asr.segments import Heard, window_seek, words_of

log = logging.getLogger(__name__)

# Called once per decode batch with (windows in it, requests they came from).
BatchObserver = Callable[[int, int], None]


class DecodeStats:
    """What the decode calls held, on either path: for tests, the bench and the metrics."""

    def __init__(self, batch_size: int, on_batch: BatchObserver | None = None) -> None:
        self.batch_size = batch_size
        self.on_batch = on_batch
        self.calls = 0  # pipeline.transcribe calls
        self.batches = 0  # batches of at most batch_size windows those calls ran
        self.windows = 0
        self.requests = 0  # a request: one decode pass of one channel
        self.mixed_batches = 0  # batches holding windows of more than one request
        self.max_requests_per_batch = 0
        self._lock = threading.Lock()

    def record(self, windows: list[int]) -> None:
        """One decode call whose i-th request brought `windows[i]` windows."""
        owners = [i for i, count in enumerate(windows) for _ in range(count)]
        batches = [
            (len(chunk), len(set(chunk)))
            for chunk in (
                owners[i : i + self.batch_size] for i in range(0, len(owners), self.batch_size)
            )
        ]
        with self._lock:
            self.calls += 1
            self.requests += len(windows)
            self.windows += len(owners)
            self.batches += len(batches)
            for _, requests in batches:
                self.mixed_batches += requests > 1
                self.max_requests_per_batch = max(self.max_requests_per_batch, requests)
        if self.on_batch is not None:
            for size, requests in batches:
                self.on_batch(size, requests)

    @property
    def windows_per_batch(self) -> float:
        with self._lock:
            return self.windows / self.batches if self.batches else 0.0

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return {
                "calls": self.calls,
                "batches": self.batches,
                "windows": self.windows,
                "requests": self.requests,
                "mixed_batches": self.mixed_batches,
                "max_requests_per_batch": self.max_requests_per_batch,
                "windows_per_batch": self.windows / self.batches if self.batches else 0.0,
            }


@dataclass
class _Request:
    packing: Packing
    language: str
    progress: Callable[[float], None] | None
    arrived: float = field(default_factory=time.monotonic)
    future: Future[Heard] = field(default_factory=Future)


class WindowBatcher:
    """One decode thread serving the channel threads of every transcription in the process."""

    def __init__(
        self,
        model: WhisperModel,
        *,
        batch_size: int,
        beam_size: int,
        wait_s: float,
        stats: DecodeStats,
    ) -> None:
        self._model = model
        # Its own pipeline: the pipeline keeps word-timing state between the batches of a call.
        self._pipeline = BatchedInferencePipeline(model)
        self._batch_size = batch_size
        self._beam_size = beam_size
        self._wait_s = wait_s
        self.stats = stats
        self._pending: list[_Request] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    # -- callers' side ---------------------------------------------------------------------

    def submit(
        self,
        packing: Packing,
        language: str,
        progress: Callable[[float], None] | None = None,
    ) -> Future[Heard]:
        """Queue a channel's packed speech; the Future gets its words on the channel's clock."""
        request = _Request(packing, language, progress)
        if not packing.windows:
            request.future.set_result(Heard())
            return request.future
        with self._cond:
            if self._closed:
                raise RuntimeError("the transcriber is closed")
            self._pending.append(request)
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name="asr-batcher", daemon=True)
                self._thread.start()
            self._cond.notify()
        return request.future

    def decode(
        self,
        packing: Packing,
        language: str,
        progress: Callable[[float], None] | None = None,
    ) -> Heard:
        """`submit` and wait."""
        return self.submit(packing, language, progress).result()

    def close(self, timeout: float | None = None) -> None:
        """Take no more requests; the thread decodes those it has, then ends."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # -- the decode thread -----------------------------------------------------------------

    def _serve(self) -> None:
        try:
            while (taken := self._next_call()) is not None:
                self._decode(*taken)
        except BaseException as exc:  # a bug here must not leave callers waiting for ever
            with self._cond:
                self._closed = True
                stranded, self._pending = self._pending, []
            log.exception("the decode thread stopped")
            for request in stranded:
                _fail(request, RuntimeError(f"the decode thread stopped: {exc!r}"))
            raise

    def _next_call(self) -> tuple[list[_Request], str] | None:
        """Wait for a batch's worth of windows of one language, or for the oldest's wait to end."""
        with self._cond:
            while True:
                if not self._pending:
                    if self._closed:
                        return None
                    self._cond.wait()
                    continue
                oldest = self._pending[0]
                same = [r for r in self._pending if r.language == oldest.language]
                windows = sum(len(r.packing.windows) for r in same)
                left = oldest.arrived + self._wait_s - time.monotonic()
                if windows >= self._batch_size or left <= 0 or self._closed:
                    break
                self._cond.wait(left)
            taken: list[_Request] = []
            count = 0
            for request in same:  # oldest first; the last one may take the call past a batch
                if count >= self._batch_size:
                    break
                taken.append(request)
                count += len(request.packing.windows)
            chosen = {id(r) for r in taken}
            self._pending = [r for r in self._pending if id(r) not in chosen]
        return taken, oldest.language

    def _decode(self, requests: list[_Request], language: str) -> None:
        try:
            self._decode_together(requests, language)
        except Exception as exc:
            left = [r for r in requests if not r.future.done()]
            if len(left) <= 1:
                for request in left:
                    _fail(request, exc)
                return
            log.warning(
                "a decode call of %d channels failed (%r); decoding them one at a time",
                len(left),
                exc,
            )
            for request in left:
                try:
                    self._decode_together([request], language)
                except Exception as single:
                    _fail(request, single)
        except BaseException as exc:
            for request in requests:
                _fail(request, exc)
            raise

    def _decode_together(self, requests: list[_Request], language: str) -> None:
        """One pipeline call over every window of `requests`; each request's words to its Future."""
        rate = int(self._model.feature_extractor.sampling_rate)
        fps = int(self._model.frames_per_second)
        bases: list[int] = []
        clips: list[dict[str, float]] = []
        end = 0
        for request in requests:
            # The samples faster-whisper cuts for a window given alone (its `int(t * rate)`).
            cuts = [(int(a * rate), int(b * rate)) for a, b in request.packing.windows]
            base = -(-end // rate)  # whole seconds, after the previous request
            while any(window_seek(base * rate + s) != base * fps + window_seek(s) for s, _ in cuts):
                base += 1  # float truncation would move a window's time by one 10 ms frame
            bases.append(base)
            # Half a sample in, so that `int(t * rate)` cuts exactly these samples again.
            clips.extend(
                {"start": (base * rate + s + 0.5) / rate, "end": (base * rate + e + 0.5) / rate}
                for s, e in cuts
            )
            end = base * rate + len(request.packing.samples)
        signal = np.zeros(end, np.float32)
        for base, request in zip(bases, requests, strict=True):
            signal[base * rate : base * rate + len(request.packing.samples)] = (
                request.packing.samples
            )

        started = time.perf_counter()
        self.stats.record([len(r.packing.windows) for r in requests])
        self._pipeline.last_speech_timestamp = 0.0  # as at the start of a call of its own
        segments, _ = self._pipeline.transcribe(
            signal,
            language=language,
            word_timestamps=True,
            clip_timestamps=clips,
            batch_size=self._batch_size,
            beam_size=self._beam_size,
        )
        marks = [base * fps for base in bases]
        collected: list[list[Segment]] = [[] for _ in requests]
        finished = 0
        for segment in segments:
            index = bisect.bisect_right(marks, segment.seek) - 1
            while finished < index:  # windows come back in order: earlier requests are done
                self._finish(requests[finished], collected[finished], bases[finished])
                finished += 1
            collected[index].append(segment)
        for index in range(finished, len(requests)):
            self._finish(requests[index], collected[index], bases[index])
        log.debug(
            "decoded %d windows of %d channels (%s) in %.2f s",
            len(clips),
            len(requests),
            language,
            time.perf_counter() - started,
        )

    @staticmethod
    def _finish(request: _Request, segments: list[Segment], base: int) -> None:
        try:
            words = words_of(segments, request.packing, request.progress, base)
        except Exception as exc:  # this request's own step (its progress callback): its error
            _fail(request, exc)
            return
        with contextlib.suppress(InvalidStateError):  # cancelled by its caller
            request.future.set_result(words)


def _fail(request: _Request, exc: BaseException) -> None:
    with contextlib.suppress(InvalidStateError):
        request.future.set_exception(exc)


def detect_language(model: WhisperModel, packing: Packing) -> tuple[str, float]:
    """The language faster-whisper's batched pipeline would detect for this packing alone,
    and its probability.

    It looks at the first 30 s of the windows' features, as `BatchedInferencePipeline` does
    when no language is given; a shared call cannot (it would ask the first request only).
    """
    extractor = model.feature_extractor
    rate = extractor.sampling_rate
    features = []
    frames = 0
    for a, b in packing.windows:
        features.append(extractor(packing.samples[int(a * rate) : int(b * rate)])[..., :-1])
        frames += features[-1].shape[-1]
        if frames >= extractor.nb_max_frames:
            break
    features.append(np.full((model.model.n_mels, 1), -1.5, dtype=np.float32))
    language, probability, _ = model.detect_language(features=np.concatenate(features, axis=1))
    return str(language), float(probability)
