"""Dependencies the routes declare: the service, and the one way a caller is authenticated
(`authenticate`: the HTTP dependency `CurrentApp`, the legs' WebSockets and the fast file
path all use it). A file may also be read with a signed link (`FileReader`)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Query, Request
from fastapi.concurrency import run_in_threadpool

from transcribe.auth import TokenVerifier
from transcribe.errors import AuthError, HeaderTooLargeError
from transcribe.limits import MAX_TOKEN_CHARS
from transcribe.service import Service


async def get_service(request: Request) -> Service:
    """Async, so resolving it costs no thread hop on every request."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def bearer(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <JWT>` header. A header over MAX_TOKEN_CHARS
    is refused (431) before anything parses it: no real token comes near that size."""
    if not authorization:
        raise AuthError("an Authorization: Bearer <JWT> header is required")
    if len(authorization) > MAX_TOKEN_CHARS:
        raise HeaderTooLargeError(
            f"the Authorization header is {len(authorization)} characters; "
            f"the limit is {MAX_TOKEN_CHARS}",
            field="Authorization",
        )
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <JWT>'")
    return token.strip()


async def authenticate(tokens: TokenVerifier, token: str) -> str:
    """The application_id of a valid RS256 token of a registered application. A token seen
    before answers from memory; a new one is verified in a thread (RSA and the database)."""
    cached = tokens.cached(token)
    if cached is not None:
        return cached
    application_id: str = await run_in_threadpool(tokens.verify, token)
    return application_id


async def current_application(
    service: ServiceDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    return await authenticate(service.tokens, bearer(authorization))


CurrentApp = Annotated[str, Depends(current_application)]


async def file_reader(
    file_uuid: str,
    service: ServiceDep,
    authorization: Annotated[str | None, Header()] = None,
    application_id: Annotated[
        str | None, Query(max_length=36, description="A signed link's application")
    ] = None,
    expires: Annotated[
        int | None, Query(ge=0, description="A signed link's expiry (unix seconds)")
    ] = None,
    signature: Annotated[
        str | None,
        Query(max_length=100, description="A signed link's signature (POST .../link)"),
    ] = None,
) -> str:
    """Who reads a file: the caller of a JWT, as everywhere, or (with no Authorization
    header) a signed link to this one file, which an `<audio>` element can follow."""
    if authorization is not None or signature is None:
        return await authenticate(service.tokens, bearer(authorization))
    application: str = await run_in_threadpool(
        service.links.verify, file_uuid, application_id, expires, signature
    )
    return application


FileReader = Annotated[str, Depends(file_reader)]


def require_admin(
    service: ServiceDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    expected = service.settings.admin_token
    if not expected:
        raise AuthError(
            "application management over HTTP is off: set TRANSCRIBE__ADMIN_TOKEN, "
            "or use `transcribe app create`"
        )
    if not hmac.compare_digest(bearer(authorization).encode(), expected.encode()):
        raise AuthError("the admin token is wrong")


AdminDep = Annotated[None, Depends(require_admin)]
