"""Live calls: create a conversation, then each leg streams over its own WebSocket in
Vonage's framing (`transcribe.live.framing`). Closing the socket hangs the leg up."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket
from prometheus_client import Histogram
from starlette.websockets import WebSocketDisconnect

from transcribe.api.deps import CurrentApp, ServiceDep, authenticate, bearer
from transcribe.api.errors import close_code_of
from transcribe.api.schemas import ConversationIn
from transcribe.errors import TranscribeError
from transcribe.limits import MAX_TOKEN_CHARS
from transcribe.live import BATCH_S, LiveCall, LiveCalls
from transcribe.live.framing import (
    MALFORMED,
    POLICY,
    LegClosed,
    Pace,
    check_audio,
    connected_rate,
    parse_event,
)
from transcribe.ncco import Ncco
from transcribe.service import Service
from transcribe.views import ConversationView, IgnoredAction, IgnoredField

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])


@router.post("", status_code=201)
def create_conversation(
    body: ConversationIn, app_id: CurrentApp, service: ServiceDep
) -> ConversationView:
    """Run an NCCO: a new conversation, or (a `conversation` action naming a live one) a
    legs_url into it whose legs carry this NCCO's per-leg options."""
    created = service.conversations.create(app_id, body.ncco)
    ignored = created.ncco.ignored
    return ConversationView(
        conversation_uuid=created.conversation_uuid,
        legs_url=service.urls.legs(created.conversation_uuid, created.ncco_uuid),
        ignored_actions=[
            IgnoredAction(index=i.index, action=i.action, reason=i.reason)
            for i in ignored
            if i.field is None
        ],
        ignored_fields=[IgnoredField(name=i.name, reason=i.reason) for i in ignored if i.field],
    )


@router.websocket("/{conversation_uuid}/legs")
async def leg_socket(
    websocket: WebSocket,
    conversation_uuid: str,
    token: Annotated[str | None, Query(max_length=MAX_TOKEN_CHARS)] = None,
) -> None:
    """A leg of the NCCO that created the conversation."""
    await _leg(websocket, conversation_uuid, None, token)


@router.websocket("/{conversation_uuid}/nccos/{ncco_uuid}/legs")
async def joined_leg_socket(
    websocket: WebSocket,
    conversation_uuid: str,
    ncco_uuid: str,
    token: Annotated[str | None, Query(max_length=MAX_TOKEN_CHARS)] = None,
) -> None:
    """A leg of an NCCO that joined the conversation by name."""
    await _leg(websocket, conversation_uuid, ncco_uuid, token)


async def _leg(
    websocket: WebSocket, conversation_uuid: str, ncco_uuid: str | None, token: str | None
) -> None:
    service: Service = websocket.app.state.service
    calls: LiveCalls = websocket.app.state.calls
    limits = service.settings.live
    app_id: str | None = None
    call: LiveCall | None = None
    leg_id = str(uuid.uuid4())

    async def hangup(reason: str) -> None:
        await websocket.close(1000, reason[:120])

    try:
        # Legs take channels in the order they connected, not the order they get through
        # the awaits below: the admission is entered before the first of them.
        async with calls.admission(conversation_uuid):
            await websocket.accept()
            try:
                raw = token if token else bearer(websocket.headers.get("authorization"))
                app_id, ncco = await _admit(service, calls, raw, conversation_uuid, ncco_uuid)
                rate = await _connected(websocket, limits.first_frame_timeout_s)
                call = calls.call(app_id, conversation_uuid)
                await call.join(leg_id, rate, ncco_uuid or "", ncco, hangup)
            except TranscribeError as exc:
                raise LegClosed(close_code_of(exc), exc.message) from exc
        service.metrics.live_legs.inc()
        try:
            pace = Pace(rate, limits.max_ahead_s, time.time())
            await _stream(websocket, call, leg_id, pace, service.metrics.leg_lag)
        finally:
            service.metrics.live_legs.dec()
    except LegClosed as closed:
        await websocket.close(closed.code, closed.reason[:120])
    except WebSocketDisconnect:
        pass
    finally:
        if call is not None:
            await call.leave(leg_id)
            calls.forget(call)
        if app_id is not None:
            calls.release(app_id)


async def _admit(
    service: Service, calls: LiveCalls, token: str, conversation_uuid: str, ncco_uuid: str | None
) -> tuple[str, Ncco]:
    """The leg's application and the NCCO it runs, once it may join: its token is good, the
    conversation (and NCCO) is its own and open, the disk is above its floor and the
    application below its limit of legs (counted from here on: `LiveCalls.release` when
    the leg ends)."""
    app_id = await authenticate(service.tokens, token)

    def check() -> Ncco:  # the database and the disk, in a thread
        ncco = service.conversations.actions(app_id, conversation_uuid, ncco_uuid)
        service.disk.check()
        return ncco

    ncco = await asyncio.to_thread(check)
    calls.admit(app_id)
    return app_id, ncco


async def _connected(websocket: WebSocket, timeout_s: float) -> int:
    """The sample rate of the first frame, `websocket:connected`, due within `timeout_s`."""
    try:
        first = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        raise LegClosed(
            POLICY,
            f"no websocket:connected frame within {timeout_s:g} s (live.first_frame_timeout_s)",
        ) from None
    if first["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(first.get("code", 1000))
    return connected_rate(first.get("text"))


async def _stream(
    websocket: WebSocket, call: LiveCall, leg_id: str, pace: Pace, lag: Histogram
) -> None:
    """Receive until the leg hangs up, handing audio over in batches of about BATCH_S; a
    leg that runs ahead of real time is closed before that audio is written (`Pace`).

    Each hand-over observes how far behind real time it is: the time now against when the
    batch's last sample was due, counting from the leg's first frame at real-time pace.
    """
    batch = bytearray()
    bytes_per_s = pace.bytes_per_s
    batch_bytes = int(bytes_per_s * BATCH_S)
    first_arrival = 0.0
    started: float | None = None
    received = 0

    def hand_over() -> None:
        call.write(leg_id, bytes(batch), first_arrival)
        batch.clear()
        assert started is not None
        lag.observe(max(0.0, time.time() - (started + received / bytes_per_s)))

    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            break
        data = message.get("bytes")
        if data is not None:
            check_audio(data)
            now = time.time()
            pace.take(len(data), now)
            if not batch:
                first_arrival = now
            if started is None:
                started = first_arrival
            batch += data
            received += len(data)
            if len(batch) >= batch_bytes:
                hand_over()
            continue
        event = parse_event(message.get("text"))
        if batch:
            hand_over()
        if event.get("event") == "websocket:dtmf":
            try:
                call.dtmf(leg_id, str(event.get("digit", "")))
            except TranscribeError as exc:
                raise LegClosed(MALFORMED, exc.message) from exc
    if batch:
        hand_over()
