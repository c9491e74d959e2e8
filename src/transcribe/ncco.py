"""NCCO actions (Vonage's call-control objects) as validated models: `record` and `conversation`.

Field names and value ranges are Vonage's own (`endOnSilence`, `timeOut`, ...), so an NCCO
written for Vonage works here unchanged. Unknown keys are errors rather than silently ignored:
a misspelt `endOnSilense` would otherwise record for two hours. Every problem is reported at
once as an `InvalidParametersError` naming the field as the caller spelt it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from transcribe.document import DEFAULT_LANGUAGE
from transcribe.errors import InvalidParametersError, UnsupportedLanguageError
from transcribe.languages import whisper_language
from transcribe.limits import MAX_CHANNELS, MAX_RECORD_SECONDS, MP3_MAX_CHANNELS
from transcribe.urls import is_http_url

RecordingFormat = Literal["mp3", "wav", "ogg"]
EndKey = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]
HttpMethod = Literal["POST", "GET"]

DEFAULT_TIMEOUT = MAX_RECORD_SECONDS


def _one_url(value: object) -> object:
    """Vonage sends `eventUrl` as a list holding one URL; a bare string is accepted too."""
    if isinstance(value, list):
        if len(value) != 1:
            raise ValueError(f"must be one URL or a list of one, not of {len(value)}")
        value = value[0]
    if not isinstance(value, str):
        return value  # the str type check reports it
    if not is_http_url(value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _supported_language(value: str) -> str:
    """A code from the list this service transcribes (`languages.py`), kept as asked."""
    try:
        whisper_language(value)
    except UnsupportedLanguageError as exc:
        raise ValueError(exc.message) from None
    return value


EventUrl = Annotated[str, BeforeValidator(_one_url)]
Language = Annotated[str, AfterValidator(_supported_language)]
EventMethod = Annotated[HttpMethod, BeforeValidator(_upper)]


class _Strict(BaseModel):
    """No unknown keys and no guessing: `"channels": true` or `"beepStart": "yes"` are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TranscriptionOptions(_Strict):
    """`record.transcription`: transcribe the recording once it is written."""

    language: Language = Field(default=DEFAULT_LANGUAGE, min_length=2, max_length=16)
    event_url: EventUrl | None = Field(default=None, alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")


class RecordAction(_Strict):
    """The `record` action: which file to write and when to stop.

    `channels` implies split; `split` alone means two channels (caller left, everyone else
    right); neither means one mono mix. `format` left out becomes `mp3`, or `wav` above two
    channels since MP3 cannot hold more.
    """

    action: Literal["record"] = "record"
    split: Literal["conversation"] | None = None
    channels: int | None = Field(default=None, ge=1, le=MAX_CHANNELS)
    format: RecordingFormat | None = None
    end_on_silence: float | None = Field(default=None, ge=3, le=10, alias="endOnSilence")
    end_on_key: EndKey | None = Field(default=None, alias="endOnKey")
    time_out: int = Field(
        default=DEFAULT_TIMEOUT,
        ge=3,
        le=DEFAULT_TIMEOUT,
        alias="timeOut",
        validation_alias=AliasChoices("timeOut", "timeout"),
    )
    beep_start: bool = Field(default=False, alias="beepStart")
    event_url: EventUrl | None = Field(default=None, alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")
    transcription: TranscriptionOptions | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_timeout(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timeOut" in data and "timeout" in data:
            raise PydanticCustomError("two_timeouts", "give timeOut or timeout, not both")
        return data

    @field_validator("format")
    @classmethod
    def _mp3_holds_two_channels(
        cls, value: RecordingFormat | None, info: ValidationInfo
    ) -> RecordingFormat | None:
        channels = info.data.get("channels")
        if value == "mp3" and channels is not None and channels > MP3_MAX_CHANNELS:
            raise ValueError(
                f"mp3 holds at most {MP3_MAX_CHANNELS} channels, not {channels}: "
                "use wav or ogg, or leave format out"
            )
        return value

    @property
    def channel_count(self) -> int:
        """Channels in the file: N for `channels: N`, 2 for split, else 1."""
        if self.channels is not None:
            return self.channels
        return 2 if self.split == "conversation" else 1

    @property
    def file_format(self) -> RecordingFormat:
        if self.format is not None:
            return self.format
        return "wav" if self.channel_count > MP3_MAX_CHANNELS else "mp3"

    @property
    def synchronous(self) -> bool:
        """Vonage's synchronous mode: the recording stops at silence or a key, not only hangup."""
        return self.end_on_silence is not None or self.end_on_key is not None


class ConversationAction(_Strict):
    """The `conversation` action: legs join a named conversation, recorded when `record`."""

    action: Literal["conversation"]
    name: str = Field(min_length=1, max_length=200)
    record: bool = False
    event_url: EventUrl | None = Field(default=None, alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")


NccoAction = Annotated[RecordAction | ConversationAction, Field(discriminator="action")]

_NCCO = TypeAdapter(list[NccoAction])


def parse_record(data: object) -> RecordAction:
    """A record action from decoded JSON (the `action` key may be left out)."""
    try:
        return RecordAction.model_validate(data)
    except ValidationError as exc:
        raise InvalidParametersError(_problems(exc, prefix="", tagged=False)) from None


def parse_transcription(data: dict[str, object]) -> TranscriptionOptions:
    """Transcription options given as form fields (POST /v1/transcriptions): the same model
    and rules as an NCCO's `record.transcription`; fields left empty take the default."""
    given = {k: v for k, v in data.items() if v not in (None, "")}
    try:
        return TranscriptionOptions.model_validate(given)
    except ValidationError as exc:
        raise InvalidParametersError(_problems(exc, prefix="", tagged=False)) from None


def parse_ncco(data: object) -> list[RecordAction | ConversationAction]:
    """An NCCO: a non-empty list of actions, each told apart by its `action` key."""
    if not isinstance(data, list) or not data:
        raise InvalidParametersError([("ncco", "a non-empty list of actions")])
    try:
        return _NCCO.validate_python(data)
    except ValidationError as exc:
        raise InvalidParametersError(_problems(exc, prefix="ncco", tagged=True)) from None


_REASONS = {
    "extra_forbidden": "not a known option",
    "union_tag_invalid": "must be 'record' or 'conversation'",
    "union_tag_not_found": "each action needs an 'action' key",
    "missing": "required",
}


def _problems(exc: ValidationError, *, prefix: str, tagged: bool) -> list[tuple[str, str]]:
    """Pydantic's errors as (field as the caller spelt it, reason) pairs."""
    problems = []
    for error in exc.errors(include_url=False):
        loc: Sequence[int | str] = error["loc"]
        kind = error["type"]
        if tagged and len(loc) >= 2 and isinstance(loc[0], int):
            loc = [loc[0], *loc[2:]]  # drop the union tag pydantic inserts after the index
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = [*loc, "action"]
        elif kind == "two_timeouts":
            loc = [*loc, "timeOut"]
        name = prefix
        for part in loc:
            name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
        reason = _REASONS.get(kind) or _reason(error["msg"], error.get("input"))
        problems.append((name or "record", reason))
    return problems


def _reason(message: str, value: object) -> str:
    """Pydantic's message in our words, with the value that was given."""
    message = message.removeprefix("Value error, ").replace("Input should be", "must be")
    shown = repr(value)
    if not isinstance(value, dict | list) and len(shown) <= 60:
        message += f" (got {shown})"
    return message
