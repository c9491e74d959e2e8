"""Vonage's WebSocket framing for a call leg, free of any web framework.

A text frame `{"event": "websocket:connected", "content-type": "audio/l16;rate=16000"}`
comes first (rate 8000 or 16000), then binary frames of 16-bit little-endian PCM and text
frames `{"event": "websocket:dtmf", "digit": "5"}`. A leg that breaks the framing is closed
with a `LegClosed` code and reason; the other legs carry on.
"""

from __future__ import annotations

import json
import re
from typing import Any

CONTENT_TYPE = re.compile(r"^audio/l16;\s*rate=(8000|16000)$", re.IGNORECASE)
# WebSocket close codes: 1003 data we do not take, 1007 malformed data, 1008 not allowed.
UNSUPPORTED, MALFORMED, POLICY = 1003, 1007, 1008


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
    try:
        event = json.loads(text) if text is not None else None
    except json.JSONDecodeError:
        event = None
    if not isinstance(event, dict):
        raise LegClosed(MALFORMED, "text frames must be JSON objects with an 'event' field")
    return event


def check_audio(data: bytes) -> None:
    """Binary frames hold whole 16-bit samples."""
    if len(data) % 2:
        raise LegClosed(UNSUPPORTED, f"binary frames hold 16-bit samples; got {len(data)} bytes")
