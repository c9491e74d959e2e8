"""Checking a received `record` or `transcribed` event in one call.

A receiver passes what it got: the `Authorization` header, and the body (POST) or the
query string exactly as sent (GET). It gets the event's fields back only if the HS256
signature verifies with the application's `signature_secret`, the token is fresh, and the
token's `payload_hash` matches what arrived; otherwise `AuthError` says which check failed.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from transcribe.auth import verify_webhook
from transcribe.errors import AuthError


def verify_event(
    signature_secret: str,
    authorization: str,
    body: bytes = b"",
    query_string: str | bytes = b"",
    max_age_s: int = 300,
) -> dict[str, Any]:
    """The event's fields, once its signature, age and payload hash check out."""
    token = authorization.removeprefix("Bearer ").strip()
    if not token:
        raise AuthError("the event has no Authorization bearer token")
    query = query_string.encode() if isinstance(query_string, str) else query_string
    signed = body if body else query
    verify_webhook(token, signature_secret, signed, max_age_s=max_age_s)
    if body:
        payload: dict[str, Any] = json.loads(body)
        return payload
    return dict(parse_qsl(query.decode(), keep_blank_values=True))
