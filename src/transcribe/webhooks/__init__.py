"""Signed `record` and `transcribed` events, stored before they are sent (`Outbox.emit`)
and retried until they land (or 24 hours pass)."""

from transcribe.webhooks.delivery import Outcome, attempt_delivery, claim_due, next_delay
from transcribe.webhooks.events import create_delivery, record_payload, transcribed_payload
from transcribe.webhooks.outbox import Outbox

__all__ = [
    "Outbox",
    "Outcome",
    "attempt_delivery",
    "claim_due",
    "create_delivery",
    "next_delay",
    "record_payload",
    "transcribed_payload",
]
