"""Who may call: applications (`Applications`), their RS256 tokens (`TokenVerifier`),
signed links to one file (`FileLinks`), and the HS256 signatures on the webhooks we send them
(`sign_webhook`, `verify_webhook`)."""

from transcribe.auth.applications import Applications
from transcribe.auth.links import FileLink, FileLinks
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
    "FileLink",
    "FileLinks",
    "TokenVerifier",
    "load_public_key",
    "mint_application_token",
    "new_signature_secret",
    "payload_hash",
    "sign_webhook",
    "verify_application_token",
    "verify_webhook",
]
