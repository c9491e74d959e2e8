"""Dependencies the routes declare: the service and the calling application."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from transcribe.auth import verify_application_token
from transcribe.errors import AuthError
from transcribe.service import Service


def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def bearer(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("an Authorization: Bearer <JWT> header is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("the Authorization header must be 'Bearer <JWT>'")
    return token.strip()


def current_application(
    service: ServiceDep, authorization: Annotated[str | None, Header()] = None
) -> str:
    """The application_id of a valid RS256 token of a registered application."""
    return verify_application_token(bearer(authorization), service.public_key_for)


CurrentApp = Annotated[str, Depends(current_application)]


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
