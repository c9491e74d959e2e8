"""Signed file links: a URL that reads one stored file, for a short while, with no header.

An `<audio>` element fetches its source itself (with `Range`, again on every seek) and cannot
add an `Authorization` header, so the web console asks for a link to the recording instead
(`POST /v1/files/{uuid}/link`, with the application's JWT) and gives the player that. A link
names the file, the application and its expiry, and carries an HMAC over the three:

    /v1/files/{file_uuid}?application_id=...&expires=<unix seconds>&signature=<base64url>

It reads that one file (GET only; DELETE still needs the JWT) until `expires`, and nothing
else: a leaked link is worth much less than a leaked token, which reads and deletes all of
an application's recordings. The key is derived from the application's `signature_secret`
(already in the database, so every API node checks what any node signed), with a label of
its own so that no webhook signature can ever pass for a link, or the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from transcribe.clock import Clock
from transcribe.errors import AuthError
from transcribe.store.files import parse_uuid

_LABEL = b"transcribe file link v1"


@dataclass(frozen=True)
class FileLink:
    """The query parameters of a link to one file, and when it stops working."""

    application_id: str
    expires: int  # unix seconds
    signature: str

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.expires, UTC)

    def query(self) -> str:
        return (
            f"application_id={self.application_id}&expires={self.expires}"
            f"&signature={self.signature}"
        )


class FileLinks:
    """Signs and checks file links. `secret_for` gives an application's signature secret
    (None for an unknown application); links live `ttl_s` seconds."""

    def __init__(self, secret_for: Callable[[str], str | None], clock: Clock, ttl_s: int) -> None:
        self._secret_for = secret_for
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)

    def sign(self, application_id: str, file_uuid: str) -> FileLink:
        secret = self._secret_for(application_id)
        if secret is None:
            raise AuthError("unknown application")
        expires = int((self._clock.now() + self._ttl).timestamp())
        signature = _mac(secret, file_uuid, application_id, expires)
        return FileLink(application_id, expires, signature)

    def verify(
        self, file_uuid: str, application_id: str | None, expires: int | None, signature: str
    ) -> str:
        """The application_id a valid link to `file_uuid` was signed for."""
        if application_id is None or expires is None:
            raise AuthError("a file link needs application_id, expires and signature")
        if expires <= self._clock.now().timestamp():
            raise AuthError("the file link has expired: ask for a new one")
        secret = self._secret_for(application_id)
        expected = _mac(secret or "", file_uuid, application_id, expires)
        if secret is None or not hmac.compare_digest(expected, signature):
            raise AuthError("the file link's signature does not verify")
        return application_id


def _mac(secret: str, file_uuid: str, application_id: str, expires: int) -> str:
    """The link's signature; the file's uuid in its canonical form, as the link names it in
    any case."""
    file_uuid = parse_uuid(file_uuid) or file_uuid
    key = hmac.new(secret.encode(), _LABEL, hashlib.sha256).digest()
    message = f"{file_uuid}\n{application_id}\n{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
