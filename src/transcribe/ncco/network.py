"""The actions that need a phone network (`talk`, `stream`, `input`, `connect`, `wait`,
`transfer`): validated field by field as Vonage's NCCO reference gives them, so an NCCO
written for Vonage is accepted whole, then listed in `ignored_actions` instead of run."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from transcribe.ncco.fields import EventMethod, EventUrl, LegIds, Strict, field_error

PhoneNumber = Annotated[str, Field(pattern=r"^[1-9]\d{6,14}$")]
"""E.164 without the `+`: 7 to 15 digits, not starting with 0."""
Level = Annotated[float, Field(ge=-1, le=1)]


class TalkAction(Strict):
    action: Literal["talk"]
    text: str = Field(min_length=1, max_length=1500)
    barge_in: bool = Field(default=False, alias="bargeIn")
    loop: int = Field(default=1, ge=0)
    level: Level = 0.0
    language: str = Field(default="en-US", min_length=2, max_length=16)
    style: int = Field(default=0, ge=0)
    premium: bool = False


class StreamAction(Strict):
    action: Literal["stream"]
    stream_url: EventUrl = Field(alias="streamUrl")
    level: Level = 0.0
    barge_in: bool = Field(default=False, alias="bargeIn")
    loop: int = Field(default=1, ge=0)


class DtmfInput(Strict):
    time_out: int = Field(default=3, ge=0, le=10, alias="timeOut")
    max_digits: int = Field(default=4, ge=1, le=20, alias="maxDigits")
    submit_on_hash: bool = Field(default=False, alias="submitOnHash")


class SpeechInput(Strict):
    uuid: list[Annotated[str, Field(min_length=1, max_length=100)]] | None = Field(
        default=None, max_length=1
    )
    end_on_silence: float = Field(default=2.0, ge=0.4, le=10, alias="endOnSilence")
    language: str = Field(default="en-US", min_length=2, max_length=16)
    context: list[Annotated[str, Field(max_length=100)]] | None = None
    start_timeout: int = Field(default=10, ge=1, le=60, alias="startTimeout")
    max_duration: int = Field(default=60, ge=1, le=60, alias="maxDuration")
    save_audio: bool = Field(default=False, alias="saveAudio")
    sensitivity: int | None = Field(default=None, ge=0, le=100)


class InputAction(Strict):
    action: Literal["input"]
    type: list[Literal["dtmf", "speech"]] = Field(min_length=1, max_length=2)
    dtmf: DtmfInput | None = None
    speech: SpeechInput | None = None
    event_url: EventUrl | None = Field(default=None, alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")


class OnAnswer(Strict):
    url: EventUrl
    ringback_tone: EventUrl | None = Field(default=None, alias="ringbackTone")


class PhoneEndpoint(Strict):
    type: Literal["phone"]
    number: PhoneNumber
    dtmf_answer: str | None = Field(default=None, pattern=r"^[0-9#*p]+$", alias="dtmfAnswer")
    on_answer: OnAnswer | None = Field(default=None, alias="onAnswer")
    shaken: str | None = None


class AppEndpoint(Strict):
    type: Literal["app"]
    user: str = Field(min_length=1)


class WebsocketAuthorization(Strict):
    type: Literal["vonage", "custom"]
    value: str | None = None


class WebsocketEndpoint(Strict):
    type: Literal["websocket"]
    uri: str = Field(pattern=r"^wss?://")
    content_type: Literal["audio/l16;rate=8000", "audio/l16;rate=16000", "audio/l16;rate=24000"] = (
        Field(default="audio/l16;rate=16000", alias="content-type")
    )
    headers: dict[str, Any] | None = None
    authorization: WebsocketAuthorization | None = None


class SipEndpoint(Strict):
    type: Literal["sip"]
    uri: str = Field(pattern=r"^(sip|sips):\+?([\w|:.\-@;,=%&]+)")
    headers: dict[str, Any] | None = None
    standard_headers: dict[str, Any] | None = Field(default=None, alias="standardHeaders")


class VbcEndpoint(Strict):
    type: Literal["vbc"]
    extension: str = Field(min_length=1)


Endpoint = Annotated[
    PhoneEndpoint | AppEndpoint | WebsocketEndpoint | SipEndpoint | VbcEndpoint,
    Field(discriminator="type"),
]


class AdvancedMachineDetection(Strict):
    behavior: Literal["continue", "hangup"] | None = None
    mode: Literal["default", "detect", "detect_beep"] | None = None
    beep_timeout: int | None = Field(default=None, ge=45, le=120)


class ConnectAction(Strict):
    action: Literal["connect"]
    endpoint: list[Endpoint] = Field(min_length=1, max_length=1)
    from_: PhoneNumber | None = Field(default=None, alias="from")
    random_from_number: bool | None = Field(default=None, alias="randomFromNumber")
    event_type: Literal["synchronous"] | None = Field(default=None, alias="eventType")
    timeout: int = Field(default=60, ge=1)
    limit: int = Field(default=7200, ge=1, le=7200)
    machine_detection: Literal["continue", "hangup"] | None = Field(
        default=None, alias="machineDetection"
    )
    advanced_machine_detection: AdvancedMachineDetection | None = Field(
        default=None, alias="advancedMachineDetection"
    )
    event_url: EventUrl | None = Field(default=None, alias="eventUrl")
    event_method: EventMethod = Field(default="POST", alias="eventMethod")
    ringback_tone: EventUrl | None = Field(default=None, alias="ringbackTone")

    @model_validator(mode="after")
    def _one_caller_id(self) -> ConnectAction:
        if self.random_from_number and self.from_ is not None:
            raise field_error("randomFromNumber", "cannot be true when from is given")
        return self


class WaitAction(Strict):
    """`timeout` in seconds; Vonage treats values below 0.1 as 0.1 and above 7200 as 7200."""

    action: Literal["wait"]
    timeout: float = 10.0


class TransferAction(Strict):
    action: Literal["transfer"]
    conversation_id: str = Field(min_length=1, max_length=200, alias="conversationId")
    can_hear: LegIds | None = Field(default=None, alias="canHear")
    can_speak: LegIds | None = Field(default=None, alias="canSpeak")
    mute: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> TransferAction:
        if self.mute and self.can_speak:
            raise field_error("mute", "cannot be used with canSpeak: give one or the other")
        return self


NetworkAction = (
    TalkAction | StreamAction | InputAction | ConnectAction | WaitAction | TransferAction
)
