"""Inbound JWTs: applications call us with RS256 tokens signed by their private key.

Inbound tokens must be RS256 and signed by the private key whose public key the application
registered. Everything else (alg none, HS256 made with the public key as secret, expired, not
yet valid, unknown application, missing claims) is an `AuthError`. The algorithm list is
fixed, never taken from the token's header.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from transcribe.errors import AuthError, InvalidRequestError
from transcribe.limits import TOKEN_CACHE_ENTRIES

REQUIRED_CLAIMS = ["application_id", "iat", "exp", "jti"]
LEEWAY_S = 30


@functools.lru_cache(maxsize=1024)
def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parse a PEM public key, insisting on RSA (we verify RS256 only). Cached: every request
    verifies a token, and parsing the key costs more than checking the signature."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise InvalidRequestError(
            "public_key is not a PEM-encoded public key", field="public_key"
        ) from exc
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size < 2048:
        raise InvalidRequestError(
            "public_key must be an RSA key of at least 2048 bits", field="public_key"
        )
    return key


def verify_application_token(token: str, public_key_for: Callable[[str], str | None]) -> str:
    """Check an inbound RS256 JWT; return its application_id."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise AuthError("the bearer token is not a JWT") from exc
    if header.get("alg") != "RS256":
        raise AuthError("tokens must be signed with RS256")
    application_id = claims.get("application_id")
    if not isinstance(application_id, str):
        raise AuthError("the token has no application_id claim")
    pem = public_key_for(application_id)
    if pem is None:
        raise AuthError("unknown application")
    try:
        jwt.decode(
            token,
            key=load_public_key(pem),
            algorithms=["RS256"],
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("the token has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise AuthError("the token is not valid yet (nbf/iat in the future)") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"the token lacks the {exc.claim!r} claim") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("the token's signature does not verify") from exc
    return application_id


class TokenVerifier:
    """`verify_application_token` with a memory: a token that verified is good until its
    `exp`, so repeated calls with it (a client fetching many files) skip the RSA check and
    the key lookup."""

    def __init__(
        self, public_key_for: Callable[[str], str | None], entries: int = TOKEN_CACHE_ENTRIES
    ) -> None:
        self._public_key_for = public_key_for
        self._entries = entries
        self._verified: dict[str, tuple[str, float]] = {}

    def cached(self, token: str) -> str | None:
        hit = self._verified.get(token)
        if hit is None or hit[1] <= time.time():
            return None
        return hit[0]

    def verify(self, token: str) -> str:
        application_id = verify_application_token(token, self._public_key_for)
        expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        if len(self._verified) >= self._entries:
            now = time.time()
            self._verified = {k: v for k, v in self._verified.items() if v[1] > now}
            if len(self._verified) >= self._entries:
                self._verified.clear()
        self._verified[token] = (application_id, expires - LEEWAY_S)
        return application_id


def mint_application_token(
    application_id: str, private_key_pem: str, ttl_s: int = 900, **extra: Any
) -> str:
    """An RS256 token for calling the API as `application_id` (CLI, client, tests)."""
    now = int(time.time())
    claims = {
        "application_id": application_id,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
        **extra,
    }
    return jwt.encode(claims, private_key_pem, algorithm="RS256")
