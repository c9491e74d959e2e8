"""Who may call: applications (`Applications`), their RS256 tokens (`TokenVerifier`), and
the HS256 signatures on the webhooks we send them (`sign_webhook`, `verify_webhook`)."""

from transcribe.auth.applications import Applications
from transcribe.auth.signing import (
    new_signature_secret,
    payload_hash,
    sign_webhook,
    verify_webhook,
)
from transcribe.auth.tokens import (
    TokenVerifier,
    load_public_key,
    mint_application_token,
    verify_application_token,
)

__all__ = [
    "Applications",
    "TokenVerifier",
    "load_public_key",
    "mint_application_token",
    "new_signature_secret",
    "payload_hash",
    "sign_webhook",
    "verify_application_token",
    "verify_webhook",
]
