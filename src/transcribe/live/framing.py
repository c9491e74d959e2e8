"""Vonage's WebSocket framing for a call leg, free of any web framework.

A text frame `{"event": "websocket:connected", "content-type": "audio/l16;rate=16000"}`
comes first (rate 8000 or 16000), then binary frames of 16-bit little-endian PCM and text
frames `{"event": "websocket:dtmf", "digit": "5"}`. A leg that breaks the framing, sends a
frame over `MAX_LEG_FRAME_BYTES` or runs ahead of real time (`Pace`) is closed with a
`LegClosed` code and reason; the other legs carry on.
"""

from __future__ import annotations

import json
import re
from typing import Any

from transcribe.limits import MAX_LEG_FRAME_BYTES

CONTENT_TYPE = re.compile(r"^audio/l16;\s*rate=(8000|16000)$", re.IGNORECASE)
# WebSocket close codes: 1003 data we do not take, 1007 malformed data, 1008 not allowed,
# 1013 try again later (the service cannot take the leg now).
UNSUPPORTED, MALFORMED, POLICY, TRY_AGAIN_LATER = 1003, 1007, 1008, 1013


class LegClosed(Exception):
    """The leg broke the framing (or may not join): close it with this code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def connected_rate(text: str | None) -> int:
    """The sample rate a leg announces in its first frame, `websocket:connected`."""
    event = parse_event(text)
    if event.get("event") != "websocket:connected":
        raise LegClosed(MALFORMED, "the first frame must be the websocket:connected event")
    match = CONTENT_TYPE.match(str(event.get("content-type", "")).strip())
    if match is None:
        raise LegClosed(
            UNSUPPORTED, "content-type must be audio/l16;rate=16000 or audio/l16;rate=8000"
        )
    return int(match.group(1))


def parse_event(text: str | None) -> dict[str, Any]:
    """A text frame: a JSON object with an `event` field."""
    if text is not None:
        check_size(len(text.encode()))
    try:
        event = json.loads(text) if text is not None else None
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested past the stack
        event = None
    if not isinstance(event, dict):
        raise LegClosed(MALFORMED, "text frames must be JSON objects with an 'event' field")
    return event


def check_audio(data: bytes) -> None:
    """Binary frames hold whole 16-bit samples."""
    check_size(len(data))
    if len(data) % 2:
        raise LegClosed(UNSUPPORTED, f"binary frames hold 16-bit samples; got {len(data)} bytes")


def check_size(size: int) -> None:
    """No frame over MAX_LEG_FRAME_BYTES: a 20 ms frame is 640 bytes."""
    if size > MAX_LEG_FRAME_BYTES:
        raise LegClosed(POLICY, f"frames are at most {MAX_LEG_FRAME_BYTES} bytes; got {size}")


class Pace:
    """How far a leg's audio runs ahead of the wall clock, as the recording places it: right
    after the leg's audio so far, or at its arrival when the leg paused or fell behind.

    A leg sends in real time; one that gets more than `max_ahead_s` ahead (two hours of audio
    in a second) would fill the disk, so it is closed before its audio is written."""

    def __init__(self, rate: int, max_ahead_s: float, now: float) -> None:
        self.bytes_per_s = 2 * rate
        self.max_ahead_s = max_ahead_s
        self.end = now  # where the leg's audio so far ends, on the wall clock

    def take(self, size: int, now: float) -> None:
        """`size` bytes of audio arrived at `now`; close the leg if they run too far ahead."""
        end = max(self.end, now) + size / self.bytes_per_s
        if end - now > self.max_ahead_s:
            raise LegClosed(
                POLICY,
                f"audio {end - now:.1f} s ahead of real time; "
                f"the limit is live.max_ahead_s = {self.max_ahead_s:g} s",
            )
        self.end = end
