"""The recording engine: call legs in, one recording file out, everything on one clock.

A `Recorder` owns one recording. Legs join it (`add_leg`), send 16-bit PCM at 8 or 16 kHz
(`Leg.write`), may press keys (`Leg.dtmf`) and leave (`Leg.close`); the recorder places every
leg's audio on the recording's clock, mixes the legs into the file's channels and streams the
result to the encoder. It works the same whether the audio comes from files (rendered faster
than real time, see `render.py`) or from live sockets (fed as frames arrive).

Time. The caller picks the clock: `clock_start` is the recording's start on it, and every
`join_time` / `at` is a time on the same clock in seconds (for live legs, `time.time()` gives
the webhook's wall-clock times for free; for files, 0 and offsets). Inside, positions are
16 kHz sample counts from the start. A chunk written with `at` lands exactly there; without,
right after the leg's previous chunk. A gap before a chunk is silence and a leg that has not
joined or has left is silence: audio is never moved to close a gap.

Streaming. The recorder writes a stretch of the recording as soon as every leg still in the
call has sent its audio for it, in whole 20 ms frames. A leg that stalls holds the others back
by at most `max_lag` seconds (measured against the furthest any leg has got, or the clock
passed to `advance`); after that the recorder moves on, the stalled leg's missing audio is
silence, and its next chunk without `at` continues from where the recording is. So memory is
bounded by `max_lag` of audio per leg whatever the length of the call.

Ending. `endOnKey` (an in-band tone, found per leg by `DtmfDetector`, or a `dtmf` event),
`endOnSilence` (`SilenceDetector` on the sum of the legs), `timeOut`, or `finish()` (the call
ended). The file stops at that sample; later audio is ignored.

Threads. A Recorder is not thread-safe: serialise every call on it (one thread, or one
asyncio task handing calls to a single-worker executor, since `write` encodes and writes
to disk).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import soxr

from transcribe.audio import SAMPLE_RATE, FloatArray
from transcribe.errors import InvalidAudioError, InvalidRequestError
from transcribe.ncco import RecordAction, RecordingFormat
from transcribe.recording.dtmf import KEYS, DtmfDetector
from transcribe.recording.encoders import RecordingWriter
from transcribe.recording.layout import beep_tone, channel_for_leg, soft_limit
from transcribe.recording.silence import SilenceDetector

# How a recording ended; "restart": its process died during the call and the next one
# rendered what reached disk (set by the service, never by the engine).
EndReason = Literal["silence", "key", "timeout", "hangup", "restart"]

FRAME = 320  # 20 ms: the recording advances in whole frames until it ends
LEG_RATES = (8000, 16000)
DEFAULT_MAX_LAG = 2.0
_MAX_SPAN = 2 * SAMPLE_RATE  # samples mixed per step: big steps, little Python per second


@dataclass(frozen=True)
class RecordingResult:
    """What was written. `start_time` and `end_time` are on the caller's clock."""

    path: Path
    format: RecordingFormat
    channels: int
    duration: float
    size: int
    end_reason: EndReason
    start_time: float
    end_time: float
    legs: int
    sample_rate: int = SAMPLE_RATE

    def summary(self) -> dict[str, object]:
        """The JSON-ready summary `transcribe record` prints."""
        return {
            "file": str(self.path),
            "format": self.format,
            "channels": self.channels,
            "sample_rate": self.sample_rate,
            "duration": round(self.duration, 3),
            "size": self.size,
            "end_reason": self.end_reason,
            "start_time": self.start_time,
            "end_time": round(self.end_time, 3),
            "legs": self.legs,
        }


@dataclass(frozen=True)
class Voice:
    """Who hears a leg (the NCCO's `mute` and `canSpeak`). Muted: silent in the recording.
    `can_speak`: the ids of the legs that hear it (None: everyone); a leg that shares its
    channel with others (the mono mix, the callees' side of a split) is left out of it when
    it names none of the recording's other legs, and keeps a channel of its own."""

    muted: bool = False
    can_speak: frozenset[str] | None = None


class Leg:
    """One call leg: its audio, placed on the recording clock. Made by `Recorder.add_leg`."""

    def __init__(
        self,
        recorder: Recorder,
        leg_id: str,
        index: int,
        sample_rate: int,
        join: int,
        voice: Voice,
    ) -> None:
        self.id = leg_id
        self.index = index
        self.sample_rate = sample_rate
        self.voice = voice
        self.closed = False
        self._recorder = recorder
        self._step = SAMPLE_RATE // sample_rate  # recording samples per leg sample
        self._segments: deque[tuple[int, FloatArray]] = deque()  # (position, audio), in order
        self._next = join  # where the next contiguous chunk starts
        self._end = join  # end of the audio handed over so far (the resampler holds a little)
        self._left: int | None = None
        self._spoke = False  # has written: its position is evidence of how far time has got
        self._resampler: soxr.ResampleStream | None = None

    @property
    def covered(self) -> int:
        """Recording position up to which this leg's audio (or silence) is final."""
        return self._end

    @property
    def left_at(self) -> int:
        return self._left if self._left is not None else self._end

    def write(self, pcm: bytes | npt.NDArray[np.generic], at: float | None = None) -> None:
        """Add audio: little-endian 16-bit PCM bytes, or a 1-D int16 or float array.

        `at` is where the chunk starts on the recording clock; None continues the previous
        chunk. Audio for a time the recording has already written, or after it ended, is
        dropped.
        """
        if self.closed:
            raise InvalidRequestError(f"leg {self.id} has left the recording", field="leg")
        recorder = self._recorder
        if recorder.ended:
            return
        samples = _as_float(pcm, self.id)
        start = self._next if at is None else recorder._samples(at)
        if abs(start - self._next) < self._step:
            start = self._next
        if start > self._next:  # a pause or lost frames: silence up to `start`
            self._flush()
            self._next = self._end = start
        elif start < self._next:  # overlaps audio already placed: keep what came first
            samples = samples[math.ceil((self._next - start) / self._step) :]
        if not len(samples):
            return
        self._spoke = True
        self._next += len(samples) * self._step
        if self._step != 1:
            if self._resampler is None:
                self._resampler = soxr.ResampleStream(
                    self.sample_rate, SAMPLE_RATE, 1, dtype="float32"
                )
            samples = self._resampler.resample_chunk(samples)
        self._hand_over(samples)
        recorder._pump()

    def dtmf(self, digit: str, at: float | None = None) -> None:
        """A keypad event (a WebSocket `websocket:dtmf` frame); `at` defaults to now on this leg."""
        if len(digit) != 1 or digit not in KEYS:
            raise InvalidRequestError(
                f"leg {self.id}: {digit!r} is not a keypad digit", field="digit"
            )
        position = self._end if at is None else self._recorder._samples(at)
        self._recorder._key_pressed(digit, position)

    def close(self, at: float | None = None) -> None:
        """The leg hangs up: at `at`, or at the end of its audio. Audio after `at` is dropped."""
        if self.closed:
            return
        self._flush()
        self._left = self._end
        if at is not None:
            self._left = max(0, self._recorder._samples(at))
            self._trim_after(self._left)
        self.closed = True
        self._recorder._pump()

    def _hand_over(self, audio: FloatArray) -> None:
        start = self._end
        self._end += len(audio)
        floor = self._recorder._pos
        if self._end <= floor:
            return
        if start < floor:  # late: that part of the recording is written already
            audio, start = audio[floor - start :], floor
        if len(audio):
            self._segments.append((start, audio))

    def _flush(self) -> None:
        """Drain the resampler: the end of a continuous run of audio."""
        if self._resampler is not None:
            self._hand_over(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True))
            self._resampler = None
        self._next = self._end = max(self._next, self._end)

    def _catch_up(self, position: int) -> None:
        """The recorder moved past this stalled leg: what it did not send is silence."""
        self._flush()
        self._next = self._end = max(self._end, position)

    def _trim_after(self, position: int) -> None:
        while self._segments and self._segments[-1][0] >= position:
            self._segments.pop()
        if self._segments:
            start, audio = self._segments[-1]
            self._segments[-1] = (start, audio[: position - start])
        self._end = min(self._end, position)

    def _take(self, start: int, count: int) -> FloatArray | None:
        """This leg's audio for [start, start + count), or None when it is silent throughout."""
        stop = start + count
        out: FloatArray | None = None
        segments = self._segments
        while segments:
            seg_start, audio = segments[0]
            seg_stop = seg_start + len(audio)
            if seg_start >= stop:
                break
            if seg_stop > start:
                if out is None:
                    out = np.zeros(count, np.float32)
                lo, hi = max(seg_start, start), min(seg_stop, stop)
                out[lo - start : hi - start] = audio[lo - seg_start : hi - seg_start]
            if seg_stop > stop:
                segments[0] = (stop, audio[stop - seg_start :])
                break
            segments.popleft()
        return out


class Recorder:
    """One recording in progress: legs in, `options` applied, the file written to `path`."""

    def __init__(
        self,
        options: RecordAction,
        path: str | Path,
        *,
        clock_start: float = 0.0,
        max_lag: float | None = DEFAULT_MAX_LAG,
        file_format: RecordingFormat | None = None,
    ) -> None:
        """`file_format` overrides the action's format (live calls record WAV, then encode)."""
        self.options = options
        self.path = Path(path)
        self.format: RecordingFormat = file_format or options.file_format
        self.channels = options.channel_count
        self.clock_start = clock_start
        self._max_lag = None if max_lag is None else round(max_lag * SAMPLE_RATE)
        self._legs: list[Leg] = []
        self._pos = 0  # samples written to the file
        self._now = 0  # the furthest time `advance` was told of
        self._stop = options.time_out * SAMPLE_RATE
        self._stop_reason: EndReason = "timeout"
        self._end_reason: EndReason | None = None
        self._dtmf: dict[str, tuple[DtmfDetector, int]] = {}
        self._silence = (
            SilenceDetector(options.end_on_silence) if options.end_on_silence is not None else None
        )
        self._beep = beep_tone() if options.beep_start else None
        self._result: RecordingResult | None = None
        self._aborted = False
        self._writer = RecordingWriter(self.path, self.format, self.channels)

    @property
    def legs(self) -> list[Leg]:
        return list(self._legs)

    @property
    def ended(self) -> bool:
        return self._end_reason is not None

    @property
    def end_reason(self) -> EndReason | None:
        return self._end_reason

    @property
    def end_time(self) -> float | None:
        """When the recording ended, on the caller's clock; None while it goes on."""
        return self.clock_start + self.position if self.ended else None

    @property
    def position(self) -> float:
        """Seconds of recording written to the file so far."""
        return self._pos / SAMPLE_RATE

    def add_leg(
        self,
        leg_id: str,
        sample_rate: int = SAMPLE_RATE,
        join_time: float | None = None,
        voice: Voice | None = None,
    ) -> Leg:
        """A leg joins at `join_time` (default: where the recording is now), heard as
        `voice` says (default: by everyone).

        Legs take channels in the order they are added; the first is the initial caller.
        """
        if sample_rate not in LEG_RATES:
            raise InvalidRequestError(
                f"leg {leg_id}: audio at {sample_rate} Hz; legs send 8000 or 16000 Hz",
                field="rate",
            )
        if any(leg.id == leg_id for leg in self._legs):
            raise InvalidRequestError(f"leg {leg_id} has joined already", field="leg")
        now = max(self._pos, self._now)
        join = now if join_time is None else max(0, self._samples(join_time))
        leg = Leg(self, leg_id, len(self._legs), sample_rate, join, voice or Voice())
        self._legs.append(leg)
        if self.options.end_on_key is not None:
            self._dtmf[leg_id] = (DtmfDetector(), self._pos)
        return leg

    def advance(self, now: float) -> None:
        """The clock reached `now`: lets a live recording move past stalled legs and time out."""
        self._now = max(self._now, self._samples(now))
        self._pump()

    def finish(self, at: float | None = None) -> RecordingResult:
        """The call ended (at `at`, or when the last leg's audio does): close the file."""
        if self._result is not None:
            return self._result
        if self._aborted:
            raise InvalidRequestError(f"{self.path}: the recording was abandoned", field="path")
        if not self.ended:
            for leg in self._legs:
                leg._flush()
            if at is None:
                end = max([self._pos] + [leg.left_at for leg in self._legs])
            else:
                end = max(self._pos, self._samples(at))
            target = min(end, self._stop)
            while self._pos < target and not self.ended:
                self._emit(min(target - self._pos, _MAX_SPAN))
            if not self.ended:
                self._finish_at(self._stop_reason if self._pos >= self._stop else "hangup")
        self._writer.close()
        self._result = RecordingResult(
            path=self.path,
            format=self.format,
            channels=self.channels,
            duration=self.position,
            size=self.path.stat().st_size,
            end_reason=self._end_reason or "hangup",
            start_time=self.clock_start,
            end_time=self.clock_start + self.position,
            legs=len(self._legs),
        )
        return self._result

    def abort(self) -> None:
        """Give up on the recording (a failed render, a rejected call): close and delete it."""
        if self._result is None and not self._aborted:
            self._aborted = True
            self._end_reason = self._end_reason or "hangup"
            self._writer.close()
            self.path.unlink(missing_ok=True)

    def _samples(self, t: float) -> int:
        """A time on the caller's clock as a position in the recording (negative: before it)."""
        return round((t - self.clock_start) * SAMPLE_RATE)

    def _key_pressed(self, digit: str, position: int) -> None:
        if self.ended or digit != self.options.end_on_key:
            return
        position = max(position, self._pos)
        if position < self._stop:
            self._stop, self._stop_reason = position, "key"
        self._pump()

    def _ready(self) -> int:
        """How far every leg still in the call has sent its audio (or been given up on)."""
        heard = max([leg.covered for leg in self._legs if leg._spoke] + [self._now])
        waiting = [leg.covered for leg in self._legs if not leg.closed]
        ready = min(waiting) if waiting else max([heard] + [leg.left_at for leg in self._legs])
        if self._max_lag is not None and heard - self._max_lag > ready:
            ready = heard - self._max_lag
            for leg in self._legs:
                if not leg.closed and leg.covered < ready:
                    leg._catch_up(ready)
        return ready

    def _pump(self) -> None:
        """Write every whole frame all legs have covered, stopping at the end condition."""
        if self.ended:
            return
        target = self._ready()
        if target >= self._stop:
            target = self._stop
        else:
            target = self._pos + max(0, target - self._pos) // FRAME * FRAME
        while self._pos < target and not self.ended:
            self._emit(min(target - self._pos, _MAX_SPAN))
        if not self.ended and self._pos >= self._stop:
            self._finish_at(self._stop_reason)

    def _emit(self, count: int) -> None:
        """Mix [pos, pos + count) from the legs, look for an end in it, and write it."""
        start = self._pos
        pieces = []
        for leg in self._legs:
            audio = leg._take(start, count)
            if audio is not None and self._audible(leg):
                pieces.append((leg, audio))
        cut, reason = self._find_end(start, count, pieces)
        block = np.zeros((count, self.channels), np.float32)
        for leg, audio in pieces:
            block[:, channel_for_leg(leg.index, self.channels)] += audio
        if self._beep is not None and start < len(self._beep):
            beep = self._beep[start : start + count]
            block[: len(beep)] += beep[:, None]
        block = block[:cut]
        soft_limit(block)
        self._writer.write(block)
        self._pos += cut
        if reason is not None:
            self._finish_at(reason)

    def _audible(self, leg: Leg) -> bool:
        """Whether the leg's audio goes into its channel (`Voice`): not when muted; with
        `can_speak`, only in a channel of its own or when it names another leg of the call
        (its channel is then a mix of what they heard)."""
        voice = leg.voice
        if voice.muted:
            return False
        if voice.can_speak is None:
            return True
        channel = channel_for_leg(leg.index, self.channels)
        others = [other for other in self._legs if other is not leg]
        if all(channel_for_leg(other.index, self.channels) != channel for other in others):
            return True
        return any(other.id in voice.can_speak for other in others)

    def _find_end(
        self, start: int, count: int, pieces: list[tuple[Leg, FloatArray]]
    ) -> tuple[int, EndReason | None]:
        """Where in this stretch a key tone or the silence limit ends the recording, if it does:
        (samples of the stretch to keep, why it ends), or (count, None) when it goes on."""
        ends: list[tuple[int, EndReason]] = []
        if self._dtmf:
            present = {leg.id for leg, _ in pieces}
            for leg, audio in pieces:
                detector, origin = self._dtmf[leg.id]
                for digit, at in detector.feed(audio):
                    if digit == self.options.end_on_key:
                        ends.append((origin + at - start, "key"))
            for leg_id, (detector, _) in self._dtmf.items():
                if leg_id not in present:
                    detector.skip(count)
        if self._silence is not None:
            mix = np.zeros(count, np.float32)
            for _, audio in pieces:
                mix += audio
            end = self._silence.feed(mix)
            if end is not None:
                ends.append((end - start, "silence"))
        if not ends:
            return count, None
        cut, reason = min(ends, key=lambda end: end[0])
        return max(0, min(cut, count)), reason

    def _finish_at(self, reason: EndReason) -> None:
        self._end_reason = reason
        for leg in self._legs:
            leg._segments.clear()


def _as_float(pcm: bytes | npt.NDArray[np.generic], leg_id: str) -> FloatArray:
    """A leg's chunk as float32 in [-1, 1): a copy, so the caller may reuse its buffer."""
    if isinstance(pcm, bytes | bytearray | memoryview):
        raw = bytes(pcm)
        if len(raw) % 2:
            raise InvalidAudioError(
                f"leg {leg_id}: {len(raw)} bytes is not a whole number of 16-bit samples",
                field="audio",
            )
        return np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768.0)
    if pcm.ndim != 1:
        raise InvalidAudioError(f"leg {leg_id}: audio must be one channel", field="audio")
    if pcm.dtype == np.int16:
        return pcm.astype(np.float32) / np.float32(32768.0)
    if np.issubdtype(pcm.dtype, np.floating):
        return pcm.astype(np.float32)
    raise InvalidAudioError(
        f"leg {leg_id}: {pcm.dtype} samples; send int16 or float", field="audio"
    )
