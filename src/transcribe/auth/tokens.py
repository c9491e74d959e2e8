"""Inbound JWTs: applications call us with RS256 tokens signed by their private key.

Inbound tokens must be RS256 and signed by the private key whose public key the application
registered. Everything else (alg none, HS256 made with the public key as secret, expired, not
yet valid, living longer than the service allows, unknown application, missing claims) is an
`AuthError`. The algorithm list is fixed, never taken from the token's header.

A stolen token is good until its `exp`, so `exp - iat` is capped (`max_lifetime_s`): a client
cannot mint itself a token for a year. `leeway_s` forgives that much clock skew between the
client that set `iat`/`nbf`/`exp` and this machine. Both come from the settings
(`max_token_lifetime_s`, `token_leeway_s`).
"""

from __future__ import annotations

import functools
import hashlib
import threading
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


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """Parse the PEM RSA private key that signs an application's tokens. Giving the public key
    instead is the usual mix-up (both sit side by side), so that one is named as such."""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except TypeError as exc:
        raise InvalidRequestError(
            "the private key is encrypted; give it without a passphrase", field="private_key"
        ) from exc
    except ValueError as exc:
        if _is_public_key(pem):
            raise InvalidRequestError(
                "this is a public key; tokens are signed with the application's private key "
                "(the public one is what the application was registered with)",
                field="private_key",
            ) from exc
        raise InvalidRequestError("not a PEM private key", field="private_key") from exc
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < 2048:
        raise InvalidRequestError(
            "not an RSA private key of at least 2048 bits (tokens are RS256)",
            field="private_key",
        )
    return key


def _is_public_key(pem: str) -> bool:
    try:
        serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return False
    return True


def verify_application_token(
    token: str,
    public_key_for: Callable[[str], str | None],
    *,
    leeway_s: float,
    max_lifetime_s: float,
) -> dict[str, Any]:
    """Check an inbound RS256 JWT; return its verified claims (`application_id` among them)."""
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
        verified: dict[str, Any] = jwt.decode(
            token,
            key=load_public_key(pem),
            algorithms=["RS256"],
            options={"require": REQUIRED_CLAIMS},
            leeway=leeway_s,
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("the token has expired") from exc
    except jwt.ImmatureSignatureError as exc:
        raise AuthError("the token is not valid yet (nbf/iat in the future)") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise AuthError(f"the token lacks the {exc.claim!r} claim") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("the token's signature does not verify") from exc
    # PyJWT has checked that both claims read as integers.
    lifetime = int(verified["exp"]) - int(verified["iat"])
    if lifetime > max_lifetime_s:
        raise AuthError(
            f"the token lives {lifetime} s (exp - iat); this service accepts at most "
            f"{max_lifetime_s:.0f} s: mint a shorter-lived one"
        )
    return verified


class TokenVerifier:
    """`verify_application_token` with a memory: a token that verified is good until its
    `exp`, so repeated calls with it (a client fetching many files) skip the RSA check and
    the key lookup.

    The memory holds a SHA-256 digest of each token, not the token (a token may be kilobytes),
    and at most `entries` of them: when full, the oldest is forgotten (it verifies again if
    it comes back)."""

    def __init__(
        self,
        public_key_for: Callable[[str], str | None],
        *,
        leeway_s: float,
        max_lifetime_s: float,
        entries: int = TOKEN_CACHE_ENTRIES,
    ) -> None:
        self._public_key_for = public_key_for
        self._leeway_s = leeway_s
        self._max_lifetime_s = max_lifetime_s
        self._entries = entries
        self._verified: dict[bytes, tuple[str, float]] = {}  # digest -> (app id, exp)
        self._lock = threading.Lock()  # cached() runs on the event loop, verify() in threads

    def cached(self, token: str) -> str | None:
        key = _digest(token)
        with self._lock:
            hit = self._verified.get(key)
            if hit is not None and hit[1] <= time.time():
                del self._verified[key]
                hit = None
        return None if hit is None else hit[0]

    def verify(self, token: str) -> str:
        claims = verify_application_token(
            token,
            self._public_key_for,
            leeway_s=self._leeway_s,
            max_lifetime_s=self._max_lifetime_s,
        )
        application_id: str = claims["application_id"]
        key = _digest(token)
        with self._lock:
            if len(self._verified) >= self._entries:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[key] = (application_id, float(claims["exp"]))
        return application_id


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def mint_application_token(
    application_id: str, private_key_pem: str, ttl_s: int = 900, **extra: Any
) -> str:
    """An RS256 token for calling the API as `application_id` (CLI, client, tests)."""
    if ttl_s < 1:
        raise InvalidRequestError(f"a token must live at least 1 s, not {ttl_s}", field="ttl_s")
    now = int(time.time())
    claims = {
        "application_id": application_id,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
        **extra,
    }
    return jwt.encode(claims, load_private_key(private_key_pem), algorithm="RS256")
