"""`Client`: the HTTP API from Python, authenticated as one application.

The client holds the application's private key and mints its own short-lived RS256 tokens,
minting a fresh one shortly before the last expires, so a long notebook session or a batch
job never sees a 401 for an expired token. Every error answer of the API becomes an
`ApiError` carrying the problem document (`title`, `detail`, `invalid_parameters`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import httpx

from transcribe.auth import mint_application_token
from transcribe.client.transcript import Transcript
from transcribe.views import Accepted, RecordingPage, RecordingView, SearchHit, SearchPage

Page = TypeVar("Page", RecordingPage, SearchPage)

TOKEN_TTL_S = 300
# A token is replaced when it has less than this left, so a request never carries a dying one.
TOKEN_MARGIN_S = 30

# An upload: a path, or (file name, bytes or an open binary file).
Upload = str | Path | tuple[str, bytes | IO[bytes]]


class ApiError(Exception):
    """The API answered with an error; `problem` is its JSON body (`title`, `detail`, ...)."""

    def __init__(self, status_code: int, problem: Mapping[str, Any]) -> None:
        self.status_code = status_code
        self.problem = dict(problem)
        detail = self.problem.get("detail") or self.problem.get("title") or "error"
        super().__init__(f"{status_code}: {detail}")


class RecordingFailed(Exception):
    """The recording, or its transcription, ended in `failed`; the message says why."""

    def __init__(self, recording: RecordingView, reason: str) -> None:
        self.recording = recording
        super().__init__(f"recording {recording.recording_uuid} failed: {reason}")


class Client:
    """`Client(base_url, application_id, private_key)`: private_key is PEM text or a file."""

    def __init__(
        self,
        base_url: str,
        application_id: str,
        private_key: str | Path,
        *,
        timeout: float = 60.0,
        token_ttl_s: int = TOKEN_TTL_S,
    ) -> None:
        if token_ttl_s <= TOKEN_MARGIN_S:
            raise ValueError(f"token_ttl_s must be over {TOKEN_MARGIN_S} s")
        self.application_id = application_id
        self._token_ttl_s = token_ttl_s
        self._private_key = _read_key(private_key)
        self._token = ""
        self._token_expires = 0.0
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def token(self) -> str:
        """A valid RS256 token for this application, minted again when nearly expired."""
        if time.time() > self._token_expires - TOKEN_MARGIN_S:
            self._token = mint_application_token(
                self.application_id, self._private_key, ttl_s=self._token_ttl_s
            )
            self._token_expires = time.time() + self._token_ttl_s
        return self._token

    # Uploads

    def upload_legs(
        self,
        legs: Sequence[Upload],
        record: Mapping[str, Any] | None = None,
        offsets_ms: Sequence[int] | None = None,
    ) -> Accepted:
        """Render one audio file per leg (in join order) with a Vonage `record` action.

        E.g. `record={"split": "conversation", "format": "wav", "transcription": {}}`;
        `offsets_ms[i]` is when leg i joined. The `record` webhook follows, then `transcribed`.
        """
        data: dict[str, Any] = {"record": json.dumps(dict(record or {}))}
        if offsets_ms is not None:
            data["offset_ms"] = [str(o) for o in offsets_ms]
        with _opened(legs) as files:
            response = self._request(
                "POST", "/v1/recordings", data=data, files=[("leg", f) for f in files]
            )
        return Accepted.model_validate(response.json())

    def upload_recording(
        self,
        recording: Upload,
        language: str | None = None,
        event_url: str | None = None,
        event_method: Literal["POST", "GET"] = "POST",
    ) -> Accepted:
        """Transcribe an existing recording (WAV, MP3, OGG or FLAC; each channel on its own)."""
        data = {"language": language, "eventUrl": event_url, "eventMethod": event_method}
        with _opened([recording]) as files:
            response = self._request(
                "POST",
                "/v1/transcriptions",
                data={k: v for k, v in data.items() if v is not None},
                files=[("file", files[0])],
            )
        return Accepted.model_validate(response.json())

    # Recordings

    def recording(self, recording_uuid: str) -> RecordingView:
        return RecordingView.model_validate(
            self._request("GET", f"/v1/recordings/{recording_uuid}").json()
        )

    def recordings(
        self,
        status: str | None = None,
        conversation_uuid: str | None = None,
        page_size: int = 50,
    ) -> Iterator[RecordingView]:
        """Every recording of this application, newest first, fetched a page at a time."""
        params: dict[str, Any] = {"limit": page_size}
        if status:
            params["status"] = status
        if conversation_uuid:
            params["conversation_uuid"] = conversation_uuid
        for page in self._pages("/v1/recordings", params, RecordingPage):
            yield from page.items

    def search(
        self,
        q: str,
        *,
        since: str | None = None,
        until: str | None = None,
        kind: str | None = None,
        page_size: int = 50,
    ) -> Iterator[SearchHit]:
        """Every sentence of this application's transcripts that matches `q` (words,
        "phrases", prefix*), newest transcript first, fetched a page at a time."""
        filters = {"since": since, "until": until, "kind": kind}
        params: dict[str, Any] = {"q": q, "limit": page_size}
        params.update({name: value for name, value in filters.items() if value is not None})
        for page in self._pages("/v1/search", params, SearchPage):
            yield from page.items

    def wait(
        self,
        recording_uuid: str,
        timeout: float = 600.0,
        poll_s: float = 0.5,
        transcription: bool = True,
    ) -> RecordingView:
        """Poll until the recording is ready and, if one was asked for, its transcript done.

        Raises `RecordingFailed` with the service's reason, or `TimeoutError` naming the
        state it was left in (webhooks are the way to learn of completion without polling).
        """
        deadline = time.monotonic() + timeout
        while True:
            view = self.recording(recording_uuid)
            if view.status == "failed":
                raise RecordingFailed(view, view.error or "no reason given")
            job = view.transcription if transcription else None
            if job is not None and job.status == "failed":
                raise RecordingFailed(view, f"transcription: {job.error or 'no reason given'}")
            if view.status == "ready" and (job is None or job.status == "done"):
                return view
            if time.monotonic() > deadline:
                state = view.status + (f", transcription {job.status}" if job else "")
                raise TimeoutError(f"recording {recording_uuid} still {state} after {timeout} s")
            time.sleep(poll_s)

    def delete(self, recording_uuid: str) -> None:
        """Erase a recording and its transcript now."""
        self._request("DELETE", f"/v1/recordings/{recording_uuid}")

    # Files

    def download(self, url: str, to: str | Path | None = None) -> bytes:
        """The bytes at a `recording_url` or `transcription_url`; also written to `to`."""
        content = self._request("GET", url).content
        if to is not None:
            Path(to).write_bytes(content)
        return content

    def transcript(self, recording: str | RecordingView, labels: Sequence[str] = ()) -> Transcript:
        """The transcript of a recording (its uuid or view), or at a `transcription_url`.

        `labels` name the channels ("Caller", "Agent") in DataFrames and subtitles."""
        if isinstance(recording, RecordingView):
            url = recording.transcription.transcription_url if recording.transcription else None
            if url is None:
                raise ValueError(f"recording {recording.recording_uuid} has no transcript yet")
            uuid = recording.recording_uuid
        elif recording.startswith(("http://", "https://", "/")):
            url, uuid = recording, None
        else:
            return self.transcript(self.recording(recording), labels)
        return Transcript.from_json(self.download(url), recording_uuid=uuid, labels=labels)

    def _pages(self, path: str, params: dict[str, Any], model: type[Page]) -> Iterator[Page]:
        """The pages of a list route, following `next_cursor` until there is none."""
        while True:
            page = model.model_validate(self._request("GET", path, params=params).json())
            yield page
            if page.next_cursor is None:
                return
            params["cursor"] = page.next_cursor

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = self._http.request(method, url, headers=headers, **kwargs)
        if response.is_error:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text or response.reason_phrase}
            raise ApiError(response.status_code, problem)
        return response


def _read_key(private_key: str | Path) -> str:
    if isinstance(private_key, str) and "-----BEGIN" in private_key:
        return private_key
    path = Path(private_key)
    if not path.is_file():
        raise FileNotFoundError(f"private key {path} not found (give PEM text or a file path)")
    return path.read_text()


@contextmanager
def _opened(uploads: Sequence[Upload]) -> Iterator[list[tuple[str, bytes | IO[bytes]]]]:
    """Uploads as httpx file tuples; paths are opened for the request and closed after."""
    with ExitStack() as stack:
        yield [
            u if isinstance(u, tuple) else (Path(u).name, stack.enter_context(Path(u).open("rb")))
            for u in uploads
        ]
