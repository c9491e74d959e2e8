"""Live calls: WebSocket legs streaming into the recording engine, on the wall clock.

One `LiveCall` per conversation with legs connected, in the API process that holds the
sockets. Its recorders (one per `record` action of the NCCO, one for a `conversation` with
`record: true`) get every leg. Recorders are not thread-safe and their writes encode and hit
the disk, so every call on them runs in a worker thread, one at a time per call (an asyncio
lock), never on the event loop. Legs hand their audio over in batches of about 100 ms so a
hundred calls cost a few hundred thread hops a second, not one per 20 ms frame.

Time is `time.time()`: the recording starts when the first leg joins, a leg's audio runs on
from where it was, and audio that arrives more than `GAP_S` after the leg's position (the
caller paused, or frames were lost) is placed at its arrival time, leaving silence before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from transcribe.audio import SAMPLE_RATE
from transcribe.errors import ConflictError
from transcribe.ncco import ConversationAction, RecordAction
from transcribe.recording.engine import Leg, Recorder, RecordingResult
from transcribe.service import Service

log = logging.getLogger(__name__)

GAP_S = 0.3
BATCH_S = 0.1
TICK_S = 0.5


@dataclass
class _Recording:
    uuid: str
    recorder: Recorder
    legs: dict[str, Leg] = field(default_factory=dict)
    done: bool = False


class LiveCall:
    """The recorders of one conversation and the legs connected to it."""

    def __init__(self, service: Service, application_id: str, conversation_uuid: str) -> None:
        self.service = service
        self.application_id = application_id
        self.conversation_uuid = conversation_uuid
        self.lock = asyncio.Lock()
        self.recordings: list[_Recording] = []
        self.connected: set[str] = set()
        self.ended = False
        self._ticker: asyncio.Task[None] | None = None

    async def join(self, leg_id: str, rate: int) -> None:
        async with self.lock:
            if self.ended:
                raise ConflictError("this conversation has ended; start a new one")
            if not self.recordings:
                self.recordings = await asyncio.to_thread(self._start_recordings)
                self._ticker = asyncio.create_task(self._tick())
            now = time.time()
            for recording in self.recordings:
                if not recording.done:
                    recording.legs[leg_id] = recording.recorder.add_leg(leg_id, rate, now)
            self.connected.add(leg_id)

    async def write(self, leg_id: str, pcm: bytes, arrived: float) -> None:
        async with self.lock:
            await asyncio.to_thread(self._write, leg_id, pcm, arrived)

    async def dtmf(self, leg_id: str, digit: str) -> None:
        async with self.lock:
            now = time.time()
            await asyncio.to_thread(
                self._each, leg_id, lambda leg, r: leg.dtmf(digit, min(now, _leg_clock(leg, r)))
            )

    async def leave(self, leg_id: str) -> None:
        """The leg hung up; the last one to leave ends the conversation and its recordings."""
        async with self.lock:
            self.connected.discard(leg_id)
            await asyncio.to_thread(self._each, leg_id, lambda leg, _: leg.close())
            if not self.connected:
                self.ended = True
                if self._ticker:
                    self._ticker.cancel()
                await asyncio.to_thread(self._finish_all)
                await asyncio.to_thread(self.service.end_conversation, self.conversation_uuid)

    # -- in worker threads, under the lock -------------------------------------------------

    def _start_recordings(self) -> list[_Recording]:
        actions = self.service.conversation_actions(self.application_id, self.conversation_uuid)
        started = time.time()
        recordings = []
        for action in actions:
            record = action if isinstance(action, RecordAction) else _conversation_record(action)
            path = self.service.files.tmp_path(f".{record.file_format}")
            uuid = self.service.start_live_recording(
                self.application_id, self.conversation_uuid, record
            )
            recordings.append(_Recording(uuid, Recorder(record, path, clock_start=started)))
        return recordings

    def _write(self, leg_id: str, pcm: bytes, arrived: float) -> None:
        def put(leg: Leg, recorder: Recorder) -> None:
            behind = arrived - _leg_clock(leg, recorder)
            leg.write(pcm, at=arrived if behind > GAP_S else None)

        self._each(leg_id, put)

    def _each(self, leg_id: str, action: Callable[[Leg, Recorder], None]) -> None:
        for recording in self.recordings:
            leg = recording.legs.get(leg_id)
            if leg is None or recording.done or leg.closed:
                continue
            action(leg, recording.recorder)
            if recording.recorder.ended:
                self._finish(recording)

    def _finish_all(self) -> None:
        for recording in self.recordings:
            if not recording.done:
                self._finish(recording)

    def _finish(self, recording: _Recording) -> None:
        recording.done = True
        result: RecordingResult = recording.recorder.finish()
        log.info(
            "live recording %s ended (%s) after %.1f s",
            recording.uuid,
            result.end_reason,
            result.duration,
        )
        self.service.recording_ready(
            recording.uuid,
            result,
            datetime.fromtimestamp(result.start_time, UTC),
            datetime.fromtimestamp(result.end_time, UTC),
        )

    async def _tick(self) -> None:
        """Time passes even when nobody speaks: time-outs and stalled legs."""
        while True:
            await asyncio.sleep(TICK_S)
            async with self.lock:
                now = time.time()
                await asyncio.to_thread(self._advance, now)

    def _advance(self, now: float) -> None:
        for recording in self.recordings:
            if recording.done:
                continue
            recording.recorder.advance(now)
            if recording.recorder.ended:
                self._finish(recording)


def _leg_clock(leg: Leg, recorder: Recorder) -> float:
    return recorder.clock_start + leg.covered / SAMPLE_RATE


def _conversation_record(action: ConversationAction) -> RecordAction:
    """`conversation` with `record: true`: Vonage's default recording of the whole call."""
    options: dict[str, object] = {"action": "record"}
    if action.event_url:
        options["eventUrl"] = action.event_url
        options["eventMethod"] = action.event_method
    return RecordAction.model_validate(options)


class LiveCalls:
    """The calls with legs connected to this process, by conversation."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._calls: dict[str, LiveCall] = {}

    def call(self, application_id: str, conversation_uuid: str) -> LiveCall:
        call = self._calls.get(conversation_uuid)
        if call is None:
            call = LiveCall(self.service, application_id, conversation_uuid)
            self._calls[conversation_uuid] = call
        return call

    def forget(self, call: LiveCall) -> None:
        if call.ended and self._calls.get(call.conversation_uuid) is call:
            del self._calls[call.conversation_uuid]
