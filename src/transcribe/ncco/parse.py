"""An NCCO as a whole: every action validated, told apart by `action`, and sorted into
what the service does (`record`, the first `conversation`, `notify`) and what it accepts
but cannot do without a phone network (`ignored`, with the reason, for the response)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from transcribe.errors import InvalidParametersError
from transcribe.limits import MAX_NCCO_ACTIONS
from transcribe.ncco.conversation import ConversationAction, NotifyAction
from transcribe.ncco.fields import problems
from transcribe.ncco.network import NetworkAction
from transcribe.ncco.record import RecordAction

Action = RecordAction | ConversationAction | NotifyAction | NetworkAction
_NCCO = TypeAdapter(list[Annotated[Action, Field(discriminator="action")]])

_NEEDS_A_NETWORK = {
    "talk": "speech is played to a phone call; no audio is sent to legs here",
    "stream": "audio is played to a phone call; no audio is sent to legs here",
    "input": "collects keys or speech from a phone call; legs' keys end a record (endOnKey) only",
    "connect": "dials out through a phone network; connect legs to legs_url instead",
    "wait": "pauses a phone call's NCCO; this NCCO runs at once when it is posted",
    "transfer": "moves phone call legs; name the conversation in a conversation action instead",
}


_SECOND_CONVERSATION = (
    "a leg is in one conversation at a time and leaves it by hanging up: never reached"
)
_NO_AUDIO_OUT = "no audio is sent to legs here"
_SAYS_NOT_HEARS = "the recording takes what each leg says, not what it hears"


@dataclass(frozen=True)
class Ignored:
    """An action (or, `field`, an option of an action carried out) that was accepted but is
    not carried out, and why."""

    index: int
    action: str
    reason: str
    field: str | None = None

    @property
    def name(self) -> str:
        """As the caller spelt it: `ncco[2]`, `ncco[0].musicOnHoldUrl`."""
        return f"ncco[{self.index}]" + (f".{self.field}" if self.field else "")


@dataclass(frozen=True)
class Ncco:
    """A validated NCCO: every action as given, in order, and what the service does with it."""

    actions: list[Action]

    @property
    def records(self) -> list[RecordAction]:
        return [a for a in self.actions if isinstance(a, RecordAction)]

    @property
    def conversation(self) -> ConversationAction | None:
        """The conversation its legs join: the first. A leg is in one conversation at a time
        and leaves it only by hanging up, so a later one is never reached."""
        return next((a for a in self.actions if isinstance(a, ConversationAction)), None)

    @property
    def notifications(self) -> list[NotifyAction]:
        return [a for a in self.actions if isinstance(a, NotifyAction)]

    @property
    def ignored(self) -> list[Ignored]:
        found = []
        conversation = self.conversation
        for index, action in enumerate(self.actions):
            if isinstance(action, ConversationAction) and action is not conversation:
                found.append(Ignored(index, action.action, _SECOND_CONVERSATION))
            elif isinstance(action, ConversationAction):
                if action.music_on_hold_url is not None:
                    found.append(Ignored(index, action.action, _NO_AUDIO_OUT, "musicOnHoldUrl"))
                if action.can_hear is not None:
                    found.append(Ignored(index, action.action, _SAYS_NOT_HEARS, "canHear"))
            elif action.action in _NEEDS_A_NETWORK:
                found.append(Ignored(index, action.action, _NEEDS_A_NETWORK[action.action]))
        return found


def parse_ncco(data: object) -> Ncco:
    """An NCCO: a non-empty list of actions, each told apart by its `action` key."""
    if not isinstance(data, list) or not data:
        raise InvalidParametersError([("ncco", "a non-empty list of actions")])
    if len(data) > MAX_NCCO_ACTIONS:
        raise InvalidParametersError(
            [("ncco", f"at most {MAX_NCCO_ACTIONS} actions, not {len(data)}")]
        )
    try:
        return Ncco(_NCCO.validate_python(data))
    except ValidationError as exc:
        raise InvalidParametersError(problems(exc, prefix="ncco", tagged=True)) from None
