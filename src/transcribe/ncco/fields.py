"""What every NCCO action shares: the strict base model, Vonage's one-URL lists, the HTTP
method, and pydantic's errors turned into (field as the caller spelt it, reason) pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError

from transcribe.urls import is_http_url

HttpMethod = Literal["POST", "GET"]


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


EventUrl = Annotated[str, BeforeValidator(_one_url)]
"""A URL we send to (or that a phone network would fetch): http or https, one of it."""
EventMethod = Annotated[HttpMethod, BeforeValidator(_upper)]
LegIds = list[Annotated[str, Field(min_length=1, max_length=100)]]
"""`canSpeak` / `canHear`: the uuids of call legs."""


class Strict(BaseModel):
    """No unknown keys and no guessing: `"channels": true` or `"beepStart": "yes"` are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


_REASONS = {
    "extra_forbidden": "not a known option",
    "union_tag_not_found": "each action needs an 'action' key",
    "missing": "required",
}


def field_error(field: str, reason: str) -> PydanticCustomError:
    """An error a model validator raises about one of its fields (`mute` with `canSpeak`)."""
    return PydanticCustomError("field_error", reason, {"field": field})


def problems(exc: ValidationError, *, prefix: str, tagged: bool) -> list[tuple[str, str]]:
    """Pydantic's errors as (field as the caller spelt it, reason) pairs. `tagged`: the
    errors of a list of actions told apart by `action` (pydantic puts the tag in the path)."""
    found = []
    for error in exc.errors(include_url=False):
        loc = _as_given(error["loc"], tagged)
        kind = error["type"]
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            loc = [*loc, "type" if _is_endpoint(loc) else "action"]
        elif kind == "field_error":
            loc = [*loc, error["ctx"]["field"]]
        name = prefix
        for part in loc:
            name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
        if kind == "union_tag_invalid":
            expected = error["ctx"]["expected_tags"]
            reason = f"must be one of {expected} (got {error['ctx']['tag']!r})"
        else:
            reason = _REASONS.get(kind) or _reason(error["msg"], error.get("input"))
        found.append((name or "record", reason))
    return found


def _as_given(loc: Sequence[int | str], tagged: bool) -> list[int | str]:
    """The error's path without the tags pydantic inserts after a tagged union's index: an
    action's `action` (in an NCCO) and a connect endpoint's `type`."""
    parts = list(loc)
    if tagged and len(parts) >= 2 and isinstance(parts[0], int):
        del parts[1]
    for i in range(len(parts) - 2, 0, -1):
        if parts[i - 1] == "endpoint" and isinstance(parts[i], int) and i + 1 < len(parts):
            del parts[i + 1]
    return parts


def _is_endpoint(loc: list[int | str]) -> bool:
    return len(loc) >= 2 and loc[-2] == "endpoint" and isinstance(loc[-1], int)


def _reason(message: str, value: object) -> str:
    """Pydantic's message in our words, with the value that was given."""
    message = message.removeprefix("Value error, ").replace("Input should be", "must be")
    message = message.replace("String should match", "must match")
    shown = repr(value)
    if not isinstance(value, dict | list) and len(shown) <= 60:
        message += f" (got {shown})"
    return message
