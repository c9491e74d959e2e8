"""NCCO actions (Vonage's call-control objects) as validated models, every action of
Vonage's NCCO reference.

Field names and value ranges are Vonage's own (`endOnSilence`, `timeOut`, ...), so an NCCO
written for Vonage (or built with its SDKs) works here unchanged. Unknown keys are errors
rather than silently ignored: a misspelt `endOnSilense` would otherwise record for two
hours. Every problem is reported at once as an `InvalidParametersError` naming the action
and field as the caller spelt them (`ncco[2].endOnExit`).

`record`, `conversation` and `notify` are carried out (`record.py`, `conversation.py`); the
actions that need a phone network are validated and reported as ignored (`network.py`).
"""

from transcribe.ncco.conversation import ConversationAction, NotifyAction
from transcribe.ncco.parse import Action, Ignored, Ncco, parse_ncco
from transcribe.ncco.record import (
    DEFAULT_TIMEOUT,
    EndKey,
    RecordAction,
    RecordingFormat,
    TranscriptionOptions,
    parse_record,
    parse_transcription,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "Action",
    "ConversationAction",
    "EndKey",
    "Ignored",
    "Ncco",
    "NotifyAction",
    "RecordAction",
    "RecordingFormat",
    "TranscriptionOptions",
    "parse_ncco",
    "parse_record",
    "parse_transcription",
]
