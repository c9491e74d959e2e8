"""The URLs we hand out (`recording_url`, `transcription_url`, `legs_url`), built in one
place from `Settings.public_url`; and the rules for the event URLs we are given."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit


class Urls:
    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def file(self, file_uuid: str) -> str:
        """A stored file: `recording_url` and `transcription_url`."""
        return f"{self.base}/v1/files/{file_uuid}"

    def file_link(self, file_uuid: str, query: str) -> str:
        """A signed link to a stored file (`auth.FileLink.query`)."""
        return f"{self.file(file_uuid)}?{query}"

    def legs(self, conversation_uuid: str, ncco_uuid: str | None = None) -> str:
        """Where a conversation's legs open their WebSockets: those of the NCCO that created
        it, or (`ncco_uuid`) those of an NCCO that joined it by name."""
        base = f"{re.sub(r'^http', 'ws', self.base)}/v1/conversations/{conversation_uuid}"
        return f"{base}/legs" if ncco_uuid is None else f"{base}/nccos/{ncco_uuid}/legs"


def is_http_url(value: str) -> bool:
    """An event URL must be http or https with a host: webhooks speak nothing else, and a
    `file:` or `gopher:` URL is only ever a way to reach what the caller should not."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def without_credentials(url: str) -> str:
    """`url` for a log line: a `user:password@` in it becomes `***@`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(not a valid URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
