"""Webhooks we send are signed: `Authorization: Bearer <JWT HS256>` with the application's
signature secret, over `iat`, `jti`, `application_id` and the SHA-256 of the body."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import Any

import jwt

from transcribe.errors import AuthError


def new_signature_secret() -> str:
    return secrets.token_urlsafe(32)


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def sign_webhook(application_id: str, secret: str, body: bytes) -> str:
    """The Authorization bearer for a webhook: HS256 over iat, jti, application_id, body hash."""
    claims = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "application_id": application_id,
        "payload_hash": payload_hash(body),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_webhook(token: str, secret: str, body: bytes, max_age_s: int = 300) -> dict[str, Any]:
    """What a receiver does: check the HS256 signature, freshness and the body's hash."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["iat", "payload_hash"]}
        )
    except jwt.PyJWTError as exc:
        raise AuthError(f"webhook signature does not verify: {exc}") from exc
    if claims["iat"] < time.time() - max_age_s:
        raise AuthError("webhook token is too old")
    if claims["payload_hash"] != payload_hash(body):
        raise AuthError("webhook body does not match its payload_hash")
    return claims
