"""The `record` action and its `transcription` options, which a `conversation` shares."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from transcribe.document import DEFAULT_LANGUAGE
from transcribe.errors import InvalidParametersError, UnsupportedLanguageError
from transcribe.languages import whisper_language
from transcribe.limits import MAX_CHANNELS, MAX_RECORD_SECONDS, MP3_MAX_CHANNELS
from transcribe.ncco.fields import EventMethod, EventUrl, Strict, field_error, problems

RecordingFormat = Literal["mp3", "wav", "ogg"]
EndKey = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]

DEFAULT_TIMEOUT = MAX_RECORD_SECONDS


def _supported_language(value: str) -> str:
    """A code from the list this service transcribes (`languages.py`), kept as asked."""
    try:
        whisper_language(value)
    except UnsupportedLanguageError as exc:
        raise ValueError(exc.message) from None
    return value


Language = Annotated[str, AfterValidator(_supported_language)]


class TranscriptionOptions(Strict):
    """`record.transcription` (and `conversation.transcription`): transcribe the recording
    once it is written."""

    language: Language = Field(default=DEFAULT_LANGUAGE, min_length=2, max_length=16)
    event_url: EventUrl | None = Field(default=None, alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")
    sentiment_analysis: bool = Field(default=False, alias="sentimentAnalysis")


class RecordAction(Strict):
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
            raise field_error("timeOut", "give timeOut or timeout, not both")
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


def parse_record(data: object) -> RecordAction:
    """A record action from decoded JSON (the `action` key may be left out)."""
    try:
        return RecordAction.model_validate(data)
    except ValidationError as exc:
        raise InvalidParametersError(problems(exc, prefix="", tagged=False)) from None


def parse_transcription(data: dict[str, object]) -> TranscriptionOptions:
    """Transcription options given as form fields (POST /v1/transcriptions): the same model
    and rules as an NCCO's `record.transcription`; fields left empty take the default."""
    given = {k: v for k, v in data.items() if v not in (None, "")}
    try:
        return TranscriptionOptions.model_validate(given)
    except ValidationError as exc:
        raise InvalidParametersError(problems(exc, prefix="", tagged=False)) from None
