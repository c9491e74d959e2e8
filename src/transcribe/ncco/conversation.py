"""The `conversation` and `notify` actions: the two besides `record` that mean something
without a phone network, so the service carries them out."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from transcribe.limits import MAX_NOTIFY_PAYLOAD_BYTES
from transcribe.ncco.fields import EventMethod, EventUrl, LegIds, Strict, field_error
from transcribe.ncco.record import TranscriptionOptions


class ConversationAction(Strict):
    """The `conversation` action: legs with the same `name` meet in one conversation,
    recorded when `record`.

    The per-leg options belong to the legs that run this NCCO: `startOnEnter: false` legs
    wait (unrecorded) until a leg with `startOnEnter: true` joins; a leg with `endOnExit`
    ends the conversation for everyone when it leaves; `mute` silences the leg in the
    recording, and `canSpeak` naming none of the other legs keeps it out of channels it
    shares with them. `musicOnHoldUrl` and `canHear` are accepted: nothing is played to a
    leg here, and the recording takes what each leg says, not what it hears.
    """

    action: Literal["conversation"]
    name: str = Field(min_length=1, max_length=200)
    music_on_hold_url: EventUrl | None = Field(default=None, alias="musicOnHoldUrl")
    start_on_enter: bool = Field(default=True, alias="startOnEnter")
    end_on_exit: bool = Field(default=False, alias="endOnExit")
    record: bool = False
    can_speak: LegIds | None = Field(default=None, alias="canSpeak")
    can_hear: LegIds | None = Field(default=None, alias="canHear")
    mute: bool = False
    transcription: TranscriptionOptions | None = None
    event_url: EventUrl | None = Field(default=None, alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")

    @model_validator(mode="after")
    def _consistent(self) -> ConversationAction:
        if self.mute and self.can_speak:
            raise field_error("mute", "cannot be used with canSpeak: give one or the other")
        if self.transcription is not None and not self.record:
            raise field_error(
                "transcription", "needs record: true (only a recording is transcribed)"
            )
        return self


class NotifyAction(Strict):
    """The `notify` action: `payload` sent as a signed webhook to `eventUrl`."""

    action: Literal["notify"]
    payload: dict[str, Any]
    event_url: EventUrl = Field(alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")

    @field_validator("payload")
    @classmethod
    def _not_too_big(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            size = len(json.dumps(value, separators=(",", ":")).encode())
        except RecursionError:
            raise ValueError("nested too deeply") from None
        if size > MAX_NOTIFY_PAYLOAD_BYTES:
            raise ValueError(f"at most {MAX_NOTIFY_PAYLOAD_BYTES} bytes as JSON, not {size}")
        return value
