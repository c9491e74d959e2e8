"""Request bodies of the API (responses are `transcribe.views`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl


class ApplicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    public_key: str = Field(min_length=1, max_length=10_000, description="PEM, RSA >= 2048 bits")
    event_url: HttpUrl | None = None
    event_method: Literal["POST", "GET"] = "POST"


class ConversationIn(BaseModel):
    ncco: list[dict[str, Any]] = Field(
        description="Vonage NCCO actions: record, conversation and notify are carried out; "
        "talk, stream, input, connect, wait and transfer are validated and listed as ignored"
    )
