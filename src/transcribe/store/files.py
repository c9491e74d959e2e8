"""Files on disk under the data dir, named by uuid only, so no client input reaches a path."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

CONTENT_TYPES = {
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "json": "application/json",
}


def parse_uuid(value: str) -> str | None:
    """The canonical form of a uuid string, or None when it is not one (path tricks included)."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        return None


class FileStore:
    """Reads and writes `files/<uuid>.<ext>`; writes are atomic (temp file, then rename)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root / name

    def tmp_path(self, suffix: str) -> Path:
        """A fresh path for work in progress, on the same volume as the final files."""
        tmp = self.root / "tmp"
        tmp.mkdir(exist_ok=True)
        return tmp / f"{uuid.uuid4()}{suffix}"

    def adopt(self, source: Path, file_uuid: str, ext: str) -> tuple[str, int, str]:
        """Move a finished file from `tmp_path` in under its uuid; returns (name, size, sha256).

        Work in progress is always written under `tmp_path`, on the same volume, so this is a
        rename, never a copy."""
        name = f"{file_uuid}.{ext}"
        digest = hashlib.sha256()
        with source.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        size = source.stat().st_size
        os.replace(source, self.path(name))
        return name, size, digest.hexdigest()

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)
