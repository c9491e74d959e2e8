"""Live calls: WebSocket legs streaming into the recording engine, on the wall clock.

One `LiveCall` per conversation with legs connected, in the API process that holds the
sockets. Its recorders (one per `record` action of the NCCO, one for a `conversation` with
`record: true`) get every leg.

The real-time path is cheap on purpose: a live recording is always written as 16-bit PCM
WAV (placing, mixing and writing 100 ms of a call costs tens of microseconds), so the
recorders run right on the event loop, with no thread hop and no lock per hand-over; a
Recorder is not thread-safe, and here only the loop's thread ever touches one. Legs hand
their audio over in batches of about `BATCH_S`. When the call ends, a recording that asked
for MP3 or OGG is encoded from that WAV by a queue job (`Intake.live_ended`),
off the real-time path; the `record` webhook goes once the file in the requested format is
stored. Only what may block goes to threads: the database (starting the recordings, storing
their ends) and closing a finished recording's file (which syncs it to disk).

Time is `time.time()`: the recording starts when the first leg joins, a leg's audio runs on
from where it was, and audio that arrives more than `GAP_S` after the leg's position (the
caller paused, or frames were lost) is placed at its arrival time, leaving silence before it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from transcribe.audio import SAMPLE_RATE
from transcribe.errors import ConflictError, UnavailableError
from transcribe.live.conversations import Conversations
from transcribe.ncco import ConversationAction, Ncco, RecordAction, RecordingFormat
from transcribe.recording.engine import Leg, Recorder, Voice
from transcribe.recordings.intake import Intake

log = logging.getLogger(__name__)

_CONVERSATION = "conversation"  # in `LiveCall.recorded`: the conversation's own recording

GAP_S = 0.3
BATCH_S = 0.1
TICK_S = 0.5


@dataclass
class _Recording:
    uuid: str
    recorder: Recorder
    file_format: RecordingFormat  # what the action asked for; the recorder writes WAV
    legs: dict[str, Leg] = field(default_factory=dict)
    done: bool = False


Hangup = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class _Member:
    """A leg in the conversation: its NCCO (`ncco_key`: its legs_url) and per-leg options."""

    rate: int
    ncco_key: str
    ncco: Ncco
    hangup: Hangup

    @property
    def options(self) -> ConversationAction | None:
        return self.ncco.conversation

    @property
    def voice(self) -> Voice:
        options = self.options
        if options is None:
            return Voice()
        can_speak = None if options.can_speak is None else frozenset(options.can_speak)
        return Voice(muted=options.mute, can_speak=can_speak)


class LiveCall:
    """The recorders of one conversation and the legs connected to it, each leg running the
    NCCO of the legs_url it came through.

    The conversation starts when a leg whose NCCO has `startOnEnter` (the default) joins;
    legs that join before it wait, unrecorded. From the start, each NCCO's `record` actions
    record the conversation (from when its first leg is there), and the first NCCO whose
    `conversation` has `record: true` starts the conversation's recording. Every recording
    gets every leg, in join order. The conversation ends when its last leg leaves, or when a
    leg whose NCCO has `endOnExit` does: the other legs are then hung up.

    `write`, `dtmf` and `advance` are plain functions called on the event loop; `join` and
    `leave` are coroutines because they touch the database (in a thread).
    """

    def __init__(
        self,
        conversations: Conversations,
        intake: Intake,
        application_id: str,
        conversation_uuid: str,
    ) -> None:
        self.conversations = conversations
        self.intake = intake
        self.application_id = application_id
        self.conversation_uuid = conversation_uuid
        self.lock = asyncio.Lock()  # serialises joins and leaves, which await the database
        self.recordings: list[_Recording] = []
        self.members: dict[str, _Member] = {}  # the legs connected, in join order
        self.started = False
        self.recorded: set[str] = set()  # NCCOs (and "conversation") whose recordings started
        self.ended = False
        self._storing: set[asyncio.Task[None]] = set()

    async def join(self, leg_id: str, rate: int, ncco_key: str, ncco: Ncco, hangup: Hangup) -> None:
        """The leg joins, running `ncco` (`ncco_key` tells the NCCOs of a conversation apart);
        `hangup(reason)` closes its socket when a leg with `endOnExit` ends the call."""
        async with self.lock:
            if self.ended:
                raise ConflictError("this conversation has ended; start a new one")
            member = _Member(rate, ncco_key, ncco, hangup)
            self.members[leg_id] = member
            options = member.options
            if options is None or options.start_on_enter:
                self.started = True
            if not self.started:
                return
            due = self._due()
            if due:
                self.recordings += await asyncio.to_thread(self._start_recordings, due)
            now = time.time()
            for recording in self.recordings:
                if recording.done:
                    continue
                for other_id, other in self.members.items():
                    if other_id not in recording.legs:
                        recording.legs[other_id] = recording.recorder.add_leg(
                            other_id, other.rate, now, other.voice
                        )

    def write(self, leg_id: str, pcm: bytes, arrived: float) -> None:
        def put(leg: Leg, recorder: Recorder) -> None:
            behind = arrived - _leg_clock(leg, recorder)
            leg.write(pcm, at=arrived if behind > GAP_S else None)

        self._each(leg_id, put)

    def dtmf(self, leg_id: str, digit: str) -> None:
        now = time.time()
        self._each(leg_id, lambda leg, r: leg.dtmf(digit, min(now, _leg_clock(leg, r))))

    def advance(self, now: float) -> None:
        """Time passes even when nobody speaks: time-outs and stalled legs."""
        for recording in self.recordings:
            if recording.done:
                continue
            recording.recorder.advance(now)
            if recording.recorder.ended:
                self._finish(recording)

    async def leave(self, leg_id: str) -> None:
        """The leg hung up. The last one to leave ends the conversation and its recordings;
        so does a leg with `endOnExit`, which hangs up the others."""
        async with self.lock:
            member = self.members.pop(leg_id, None)
            self._each(leg_id, lambda leg, _: leg.close())
            options = member.options if member else None
            ends_all = options is not None and options.end_on_exit
            if (self.members and not ends_all) or self.ended:
                return
            self.ended = True
            now = time.time()
            for recording in self.recordings:
                if not recording.done:
                    for leg in recording.legs.values():
                        leg.close(at=now)
                    self._finish(recording)
            if self._storing:
                await asyncio.gather(*self._storing, return_exceptions=True)
            await asyncio.to_thread(self.conversations.end, self.conversation_uuid)
            reason = "the conversation ended: a leg with endOnExit left"
            await asyncio.gather(
                *(m.hangup(reason) for m in self.members.values()), return_exceptions=True
            )

    def _due(self) -> list[RecordAction]:
        """The recordings to start now: the `record` actions of each NCCO with a leg here
        whose recordings have not started, and the conversation's own recording (`record:
        true`, the first NCCO to ask for it) if it has not started."""
        due = []
        for member in self.members.values():
            if member.ncco_key not in self.recorded:
                self.recorded.add(member.ncco_key)
                due += member.ncco.records
            options = member.options
            if options is not None and options.record and _CONVERSATION not in self.recorded:
                self.recorded.add(_CONVERSATION)
                due.append(_conversation_record(options))
        return due

    def _start_recordings(self, actions: list[RecordAction]) -> list[_Recording]:
        """In a worker thread: a recording row and a WAV on disk per recording action."""
        started = time.time()
        recordings = []
        for record in actions:
            uuid = self.intake.start_live(
                self.application_id, self.conversation_uuid, record, started
            )
            path = self.intake.live_path(uuid)
            recorder = Recorder(record, path, clock_start=started, file_format="wav")
            recordings.append(_Recording(uuid, recorder, record.file_format))
        return recordings

    def _each(self, leg_id: str, action: Callable[[Leg, Recorder], None]) -> None:
        for recording in self.recordings:
            leg = recording.legs.get(leg_id)
            if leg is None or recording.done or leg.closed:
                continue
            action(leg, recording.recorder)
            if recording.recorder.ended:
                self._finish(recording)

    def _finish(self, recording: _Recording) -> None:
        """The recording is over: from here on only a worker thread touches its recorder, to
        close the WAV (closing syncs it to disk, no job for the event loop) and to store it
        or queue its encoding."""
        recording.done = True
        task = asyncio.get_running_loop().create_task(asyncio.to_thread(self._store, recording))
        self._storing.add(task)
        task.add_done_callback(self._stored)

    def _store(self, recording: _Recording) -> None:
        result = recording.recorder.finish()
        log.info(
            "live recording %s ended (%s) after %.1f s",
            recording.uuid,
            result.end_reason,
            result.duration,
        )
        self.intake.live_ended(recording.uuid, result, recording.file_format)

    def _stored(self, task: asyncio.Task[None]) -> None:
        self._storing.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("storing a live recording failed", exc_info=task.exception())


def _leg_clock(leg: Leg, recorder: Recorder) -> float:
    return recorder.clock_start + leg.covered / SAMPLE_RATE


def _conversation_record(action: ConversationAction) -> RecordAction:
    """`conversation` with `record: true`: Vonage's default recording of the whole call,
    sent to the conversation's `eventUrl` and transcribed as its `transcription` asks."""
    return RecordAction.model_validate(
        {
            "eventUrl": action.event_url,
            "eventMethod": action.event_method,
            "transcription": action.transcription,
        }
    )


@dataclass
class _Admission:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    legs: int = 0  # legs of the conversation between arriving and joining (or giving up)


class LiveCalls:
    """The calls with legs connected to this process, by conversation, and one ticker that
    advances their recorders every `TICK_S` while any is live and, every `heartbeat_s`, says
    in the database that their recordings are alive: recordings left `recording` by a process
    that died mid-call are told by their silence, and the sweep renders what reached disk.

    It also counts each application's legs, to hold it to `max_legs_per_application`."""

    def __init__(
        self,
        conversations: Conversations,
        intake: Intake,
        max_legs_per_application: int,
        heartbeat_s: float,
    ) -> None:
        self.conversations = conversations
        self.intake = intake
        self.max_legs_per_application = max_legs_per_application
        self.heartbeat_s = heartbeat_s
        self._calls: dict[str, LiveCall] = {}
        self._legs: dict[str, int] = {}  # live legs by application
        self._admissions: dict[str, _Admission] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None

    def admit(self, application_id: str) -> None:
        """Count a new leg of the application, or refuse it one over its limit; every
        admitted leg is `release`d when it ends."""
        legs = self._legs.get(application_id, 0)
        if legs >= self.max_legs_per_application:
            raise UnavailableError(
                f"this application has {legs} live legs, its limit "
                "(live.max_legs_per_application); try again when one ends"
            )
        self._legs[application_id] = legs + 1

    def release(self, application_id: str) -> None:
        legs = self._legs.pop(application_id, 0) - 1
        if legs > 0:
            self._legs[application_id] = legs

    @asynccontextmanager
    async def admission(self, conversation_uuid: str) -> AsyncIterator[None]:
        """Admit the legs of a conversation one at a time, in the order they arrived.

        A leg's channel is its place in the join order, and before it joins a leg awaits
        threads (its token checked, the conversation read) that take longer under load;
        without this a leg that connected second could join first and take the caller's
        channel. Enter it before the leg's first await; leave it once the leg has joined.
        The lock is first come, first served."""
        admission = self._admissions.get(conversation_uuid)
        if admission is None:
            admission = self._admissions[conversation_uuid] = _Admission()
        admission.legs += 1
        try:
            async with admission.lock:
                yield
        finally:
            admission.legs -= 1
            if not admission.legs:
                del self._admissions[conversation_uuid]

    def call(self, application_id: str, conversation_uuid: str) -> LiveCall:
        call = self._calls.get(conversation_uuid)
        if call is None:
            call = LiveCall(self.conversations, self.intake, application_id, conversation_uuid)
            self._calls[conversation_uuid] = call
        if self._ticker is None or self._ticker.done():
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return call

    def forget(self, call: LiveCall) -> None:
        if call.ended and self._calls.get(call.conversation_uuid) is call:
            del self._calls[call.conversation_uuid]

    async def _tick(self) -> None:
        next_beat = time.monotonic()
        while self._calls:
            await asyncio.sleep(TICK_S)
            now = time.time()
            for call in list(self._calls.values()):
                try:
                    call.advance(now)
                except Exception:
                    log.exception("advancing call %s failed", call.conversation_uuid)
            if time.monotonic() >= next_beat and (self._beat is None or self._beat.done()):
                next_beat = time.monotonic() + self.heartbeat_s
                self._beat = asyncio.get_running_loop().create_task(self._heartbeat())

    async def _heartbeat(self) -> None:
        """In a thread (the database): the recordings of the calls here are alive."""
        live = [r.uuid for c in self._calls.values() for r in c.recordings if not r.done]
        try:
            await asyncio.to_thread(self.intake.live_beat, live)
        except Exception:
            log.exception("the live recordings' heartbeat failed; trying again at the next")
