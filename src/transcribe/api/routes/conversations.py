"""Live calls: create a conversation, then each leg streams over its own WebSocket.

Leg framing is Vonage's: a text frame `{"event": "websocket:connected", "content-type":
"audio/l16;rate=16000"}` first (rate 8000 or 16000), then binary frames of 16-bit little-endian
PCM and text frames `{"event": "websocket:dtmf", "digit": "5"}`. Closing the socket hangs the
leg up. A leg that breaks the framing is closed with a reason; the others carry on.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import MutableMapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket
from prometheus_client import Histogram
from pydantic import BaseModel, Field
from starlette.websockets import WebSocketDisconnect

from transcribe.api.deps import CurrentApp, ServiceDep, bearer
from transcribe.calls import BATCH_S, LiveCall, LiveCalls
from transcribe.errors import TranscribeError
from transcribe.service import Service

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

CONTENT_TYPE = re.compile(r"^audio/l16;\s*rate=(8000|16000)$", re.IGNORECASE)
# WebSocket close codes: 1003 data we do not take, 1007 malformed data, 1008 not allowed.
UNSUPPORTED, MALFORMED, POLICY = 1003, 1007, 1008
# A leg sends websocket:connected as soon as its socket opens; until then later legs wait.
CONNECTED_TIMEOUT_S = 10.0


class ConversationIn(BaseModel):
    ncco: list[dict[str, Any]] = Field(description="record and/or conversation actions")


class ConversationOut(BaseModel):
    conversation_uuid: str
    legs_url: str = Field(description="Each call leg opens a WebSocket here")


@router.post("", status_code=201, response_model=ConversationOut)
def create_conversation(
    body: ConversationIn, app_id: CurrentApp, service: ServiceDep
) -> dict[str, str]:
    conversation_uuid = service.create_conversation(app_id, body.ncco)
    base = re.sub(r"^http", "ws", service.settings.public_url.rstrip("/"))
    return {
        "conversation_uuid": conversation_uuid,
        "legs_url": f"{base}/v1/conversations/{conversation_uuid}/legs",
    }


class LegClosed(Exception):
    """The leg broke the framing: close it with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@router.websocket("/{conversation_uuid}/legs")
async def leg_socket(
    websocket: WebSocket,
    conversation_uuid: str,
    token: Annotated[str | None, Query(max_length=8192)] = None,
) -> None:
    service: Service = websocket.app.state.service
    calls: LiveCalls = websocket.app.state.calls
    call: LiveCall | None = None
    leg_id = str(uuid.uuid4())
    try:
        # Legs take channels in the order they connected, not the order they get through
        # the awaits below: the admission is entered before the first of them.
        async with calls.admission(conversation_uuid):
            await websocket.accept()
            try:
                raw: str = token if token else bearer(websocket.headers.get("authorization"))
                app_id = service.tokens.cached(raw)
                if app_id is None:
                    app_id = await asyncio.to_thread(service.tokens.verify, raw)
                await asyncio.to_thread(service.conversation_actions, app_id, conversation_uuid)
                rate = _connected_rate(await _first_frame(websocket))
                call = calls.call(app_id, conversation_uuid)
                await call.join(leg_id, rate)
            except TranscribeError as exc:
                raise LegClosed(POLICY, exc.message) from exc
        service.metrics.live_legs.inc()
        try:
            await _stream(websocket, call, leg_id, rate, service.metrics.leg_lag)
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


async def _first_frame(websocket: WebSocket) -> MutableMapping[str, Any]:
    """The leg's first frame; a leg that sends none soon is closed, as it holds back the
    legs that connected after it."""
    try:
        return await asyncio.wait_for(websocket.receive(), CONNECTED_TIMEOUT_S)
    except TimeoutError:
        raise LegClosed(
            POLICY, f"no websocket:connected event within {CONNECTED_TIMEOUT_S:g} s"
        ) from None


def _connected_rate(message: MutableMapping[str, Any]) -> int:
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    event = _event(message.get("text"))
    if event.get("event") != "websocket:connected":
        raise LegClosed(MALFORMED, "the first frame must be the websocket:connected event")
    match = CONTENT_TYPE.match(str(event.get("content-type", "")).strip())
    if match is None:
        raise LegClosed(
            UNSUPPORTED, "content-type must be audio/l16;rate=16000 or audio/l16;rate=8000"
        )
    return int(match.group(1))


def _event(text: str | None) -> dict[str, Any]:
    try:
        event = json.loads(text) if text is not None else None
    except json.JSONDecodeError:
        event = None
    if not isinstance(event, dict):
        raise LegClosed(MALFORMED, "text frames must be JSON objects with an 'event' field")
    return event


async def _stream(
    websocket: WebSocket, call: LiveCall, leg_id: str, rate: int, lag: Histogram
) -> None:
    """Receive until the leg hangs up, handing audio over in batches of about BATCH_S.

    Each hand-over observes how far behind real time it is: the time now against when the
    batch's last sample was due, counting from the leg's first frame at real-time pace.
    """
    batch = bytearray()
    batch_bytes = int(rate * 2 * BATCH_S)
    first_arrival = 0.0
    started: float | None = None
    received = 0

    def hand_over() -> None:
        call.write(leg_id, bytes(batch), first_arrival)
        batch.clear()
        assert started is not None
        lag.observe(max(0.0, time.time() - (started + received / (2 * rate))))

    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            break
        data = message.get("bytes")
        if data is not None:
            if len(data) % 2:
                raise LegClosed(
                    UNSUPPORTED, f"binary frames hold 16-bit samples; got {len(data)} bytes"
                )
            if not batch:
                first_arrival = time.time()
            if started is None:
                started = first_arrival
            batch += data
            received += len(data)
            if len(batch) >= batch_bytes:
                hand_over()
            continue
        event = _event(message.get("text"))
        if batch:
            hand_over()
        if event.get("event") == "websocket:dtmf":
            digit = str(event.get("digit", ""))
            try:
                call.dtmf(leg_id, digit)
            except TranscribeError as exc:
                raise LegClosed(MALFORMED, exc.message) from exc
    if batch:
        hand_over()
