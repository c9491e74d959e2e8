"""A recording's files: stored under their own uuid (`adopt`), served at /v1/files/{uuid}
with a small read cache (`serve`, `cached`), and erased with the recording (`erase`).

Files up to `SMALL_FILE_BYTES` (transcripts, in practice) stay in memory once read: they
never change, and fetching transcription_url is the hottest read path of the API.
"""

from __future__ import annotations

import shutil
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from transcribe import search
from transcribe.clock import Clock
from transcribe.errors import NotFoundError
from transcribe.limits import FILE_CACHE_ENTRIES, SMALL_FILE_BYTES
from transcribe.store.access import owned
from transcribe.store.db import Database
from transcribe.store.files import CONTENT_TYPES, FileStore
from transcribe.store.models import Recording, StoredFile, new_id
from transcribe.store.states import FileKind


@dataclass(frozen=True)
class FileView:
    """A stored file ready to serve; `body` holds the bytes of a small one."""

    application_id: str
    path: Path
    content_type: str
    size: int
    etag: str
    name: str
    expires_at: datetime
    body: bytes | None


class RecordingFiles:
    def __init__(self, store: FileStore, db: Database, clock: Clock) -> None:
        self.store = store
        self.db = db
        self.clock = clock
        self._cache: OrderedDict[str, FileView] = OrderedDict()
        self._cache_lock = threading.Lock()

    def tmp_path(self, suffix: str) -> Path:
        """Where work in progress is written, on the volume of the stored files."""
        return self.store.tmp_path(suffix)

    def legs_dir(self, recording_uuid: str) -> Path:
        """A recording's audio before it is rendered: uploaded legs, or a live call's WAV."""
        return self.store.root / "legs" / recording_uuid

    def adopt(
        self, session: Session, recording: Recording, source: Path, ext: str, kind: FileKind
    ) -> StoredFile:
        """Move a finished file in as the recording's audio or transcript (a rename)."""
        file_uuid = new_id()
        name, size, sha = self.store.adopt(source, file_uuid, ext)
        stored = StoredFile(
            uuid=file_uuid,
            application_id=recording.application_id,
            recording_uuid=recording.uuid,
            kind=kind,
            name=name,
            content_type=CONTENT_TYPES[ext],
            size=size,
            sha256=sha,
            expires_at=recording.expires_at,
        )
        session.add(stored)
        if kind == FileKind.RECORDING:
            recording.file_uuid = file_uuid
            recording.size = size
        else:
            recording.transcription_file_uuid = file_uuid
        return stored

    def cached(self, application_id: str, file_uuid: str) -> FileView | None:
        """A file served before, without touching the database (None: ask `serve`)."""
        with self._cache_lock:
            view = self._cache.get(file_uuid)
            if view is not None:
                self._cache.move_to_end(file_uuid)
        if view is None:
            return None
        return self._check(view, application_id, file_uuid)

    def serve(self, application_id: str, file_uuid: str) -> FileView:
        """A stored file of this application, from the database (and then the cache)."""
        with self.db.session() as session:
            stored = owned(session, StoredFile, file_uuid, application_id, self.clock.now())
            path = self.store.path(stored.name)
            body = path.read_bytes() if stored.size <= SMALL_FILE_BYTES and path.exists() else None
            view = FileView(
                application_id=stored.application_id,
                path=path,
                content_type=stored.content_type,
                size=stored.size,
                etag=f'"{stored.sha256}"',
                name=stored.name,
                expires_at=stored.expires_at,
                body=body,
            )
        with self._cache_lock:
            self._cache[stored.uuid] = view
            while len(self._cache) > FILE_CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return self._check(view, application_id, file_uuid)

    def delete(self, application_id: str, file_uuid: str) -> None:
        """Erase one file now; the recording stays, its URL for this file answers 404 (and a
        transcript's sentences are no longer found by search)."""
        with self.db.session() as session:
            stored = owned(session, StoredFile, file_uuid, application_id, self.clock.now())
            recording = session.get(Recording, stored.recording_uuid)
            if recording is not None:
                if recording.file_uuid == stored.uuid:
                    recording.file_uuid = None
                if recording.transcription_file_uuid == stored.uuid:
                    recording.transcription_file_uuid = None
            if stored.kind == FileKind.TRANSCRIPTION:
                search.forget(session, stored.recording_uuid)
            name = stored.name
            self._forget([stored.uuid])
            session.delete(stored)
        self.store.delete(name)

    def erase(self, recording_uuid: str) -> None:
        """The recording, its files, their rows and its sentences in the search index, gone
        now."""
        with self.db.session() as session:
            files = session.scalars(
                select(StoredFile).where(StoredFile.recording_uuid == recording_uuid)
            ).all()
            names = [f.name for f in files]
            self._forget([f.uuid for f in files])
            for f in files:
                session.delete(f)
            search.forget(session, recording_uuid)
            recording = session.get(Recording, recording_uuid)
            if recording is not None:
                session.delete(recording)
        for name in names:
            self.store.delete(name)
        self.drop_legs(recording_uuid)

    def drop_legs(self, recording_uuid: str) -> None:
        shutil.rmtree(self.legs_dir(recording_uuid), ignore_errors=True)

    def _check(self, view: FileView, application_id: str, file_uuid: str) -> FileView:
        # Another node may have deleted it from the shared volume: the file itself decides.
        gone = view.expires_at <= self.clock.now() or not view.path.exists()
        if gone:
            self._forget([file_uuid])
        if gone or view.application_id != application_id:
            raise NotFoundError(f"no file {file_uuid!r}")
        return view

    def _forget(self, file_uuids: list[str]) -> None:
        with self._cache_lock:
            for file_uuid in file_uuids:
                self._cache.pop(file_uuid, None)
