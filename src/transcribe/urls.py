"""The URLs we hand out (`recording_url`, `transcription_url`, `legs_url`), built in one
place from `Settings.public_url`."""

from __future__ import annotations

import re


class Urls:
    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def file(self, file_uuid: str) -> str:
        """A stored file: `recording_url` and `transcription_url`."""
        return f"{self.base}/v1/files/{file_uuid}"

    def legs(self, conversation_uuid: str) -> str:
        """Where a conversation's legs open their WebSockets."""
        return f"{re.sub(r'^http', 'ws', self.base)}/v1/conversations/{conversation_uuid}/legs"
