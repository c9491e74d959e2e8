"""Generated input never makes a server error: every bad request is a 4xx JSON problem.

Schemathesis drives every operation of /openapi.json. From the schema alone it generates
what the schema says, and the bugs hide where the schema cannot say enough: `record` is "a
string" but carries JSON, `cursor` is "a string" but carries a time and a uuid, search's `q`
carries a query syntax and `since`/`until` times, and every operation reads an Authorization
header. Schema hooks swap hostile strategies in for those (deep nesting, huge and non-finite
numbers, NUL and control characters, FTS5 and tsquery syntax, JWT-shaped junk, oversize
headers). File names are out of schemathesis's reach (it names each file part
after its field), so a plain Hypothesis test sends multipart bodies of its own to the two
upload operations. Then each bug those found stays found by a test of its own.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from transcribe.limits import MAX_TOKEN_CHARS

from live import LiveApi, new_keypair, token_for
from speech import SPEECH_DIR

API_SETTINGS = {"embedded_worker": False}  # no model: the fuzzer tests the HTTP layer
ADMIN_TOKEN = "test-admin-token"
EXAMPLES = 40  # per operation and generation mode, and per multipart test: ~25 s in all
AUDIO = (SPEECH_DIR / "cards_001.wav").read_bytes()  # a real, short WAV

# -- hostile strategies -------------------------------------------------------------------

RECORD_KEYS = ["channels", "timeOut", "endOnSilence", "endOnKey", "format", "transcription"]
# Numbers as JSON text: Python's json reads 1e400 and Infinity as inf, NaN as nan.
JSON_NUMBERS = st.one_of(
    st.sampled_from(["1e308", "-1e308", "1e400", "-1e400", "1e-400", "NaN", "Infinity", "-0"]),
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)


def _nested(opener: str, depth: int) -> str:
    closer = "]" if opener == "[" else "}"
    return opener * depth + ("" if opener == "[" else "0") + closer * depth


def json_texts() -> st.SearchStrategy[str]:
    """Text for a field that carries JSON: nested thousands deep, numbers no float holds,
    arbitrary JSON over the record's own keys, and text that is no JSON at all."""
    deep = st.sampled_from(  # each but the last within the 20,000 characters of `record`
        [("[", 2), ("[", 10_000), ('{"a":', 3_000), ('{"transcription":', 1_000), ("[", 20_000)]
    ).map(lambda shape: _nested(*shape))
    huge = st.builds(lambda k, n: f'{{"{k}": {n}}}', st.sampled_from(RECORD_KEYS), JSON_NUMBERS)
    leaves = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    values = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(st.sampled_from(RECORD_KEYS) | st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=8,
    ).map(json.dumps)
    return st.one_of(deep, huge, values, st.text())


def cursors() -> st.SearchStrategy[str]:
    """`<seconds>_<uuid>` as the API writes them, with seconds no datetime holds (inf, nan,
    1e308, huge integers), uuids that are none, and plain junk."""
    stamps = st.one_of(
        st.sampled_from(["inf", "-inf", "nan", "1e308", "-1e308", "1e20", ""]),
        st.floats().map(repr),
        st.integers().map(str),
        st.text(max_size=8),
    )
    uuids = st.uuids().map(str) | st.text(max_size=12)
    return st.builds(lambda s, u: f"{s}_{u}", stamps, uuids) | st.text(max_size=100)


def search_queries() -> st.SearchStrategy[str]:
    """`q` of GET /v1/search built from what FTS5 and tsquery read as syntax (quotes, `*`,
    operators, `NEAR(...)`, column filters, `<->`, `:*`) and from NUL, control characters and
    lone combining accents, next to plain words."""
    pieces = st.sampled_from(
        [
            *['"', "*", "-", "+", ":", "(", ")", "NEAR", "NEAR(", "AND", "OR", "NOT", "^", "&"],
            *["|", "!", "<->", ":*", "'", "\\", "\x00", "\x1f", "\u0301", "é", "refund", "r"],
            *[" ", "  "],
        ]
    )
    return st.lists(pieces, max_size=12).map("".join) | st.text(max_size=40)


def times() -> st.SearchStrategy[str]:
    """`since` and `until`: ISO 8601 at the ends of what a datetime holds (a zone that pushes
    year 9999 over), numbers, and junk."""
    edges = st.sampled_from(
        [
            *["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-12-01", "2026-W49"],
            *["1700000000", "2026-02-30", "2026-12-01T25:00:00Z", "-2026-12-01", ""],
        ]
    )
    return edges | st.datetimes().map(lambda d: d.isoformat()) | st.text(max_size=30)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def authorizations(valid: str) -> st.SearchStrategy[str]:
    """Mostly the valid token (so the rest of the request is what gets tested); otherwise
    headers around and over MAX_TOKEN_CHARS, JWTs whose header and claims are hostile JSON,
    and other schemes and junk (printable Latin-1 without spaces: what an HTTP client can
    send; a leading no-break space is refused by the client itself)."""
    junk = st.text(
        st.characters(min_codepoint=0x21, max_codepoint=0xFF, exclude_categories=["Cc", "Zs"]),
        min_size=1,
        max_size=60,
    )
    hostile = st.one_of(
        st.integers(MAX_TOKEN_CHARS - 8, 4 * MAX_TOKEN_CHARS).map(lambda n: "Bearer " + "x" * n),
        st.builds(lambda h, c: f"Bearer {_b64(h)}.{_b64(c)}.c2ln", json_texts(), json_texts()),
        junk.map(lambda text: f"Bearer {text}"),
        junk,
    )
    return st.integers(0, 4).flatmap(lambda i: hostile if i == 4 else st.just(valid))


def hostile_schema(base_url: str, token: str) -> Any:
    """The API's schema with the hostile strategies hooked in where it cannot say enough."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")

    @schema.hook("flatmap_headers")
    def authorization(ctx: Any, headers: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        admin = ctx.operation.path == "/v1/applications"
        valid = f"Bearer {ADMIN_TOKEN if admin else token}"
        return authorizations(valid).map(lambda a: {**(headers or {}), "authorization": a})

    @schema.hook("flatmap_query")
    def query_strings(ctx: Any, query: dict[str, Any] | None) -> st.SearchStrategy[Any]:
        hostile = {"cursor": cursors(), "q": search_queries(), "since": times(), "until": times()}
        swapped = {name: s for name, s in hostile.items() if name in ctx.operation.query}
        if not swapped:
            return st.just(query)
        return st.fixed_dictionaries(swapped).map(lambda values: {**(query or {}), **values})

    @schema.hook("flatmap_body")
    def record(ctx: Any, body: Any) -> st.SearchStrategy[Any]:
        if not (isinstance(body, dict) and "record" in body):
            return st.just(body)
        return json_texts().map(lambda text: {**body, "record": text})

    return schema


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def assert_problem(status: int, content_type: str, body: Callable[[], Any]) -> None:
    """An error is a JSON problem {type, title, detail} (405 is Starlette's own)."""
    if status >= 400 and status != 405:
        assert content_type.split(";")[0] == "application/json", (status, content_type)
        assert {"type", "title", "detail"} <= set(body())


def fuzz(operation: Any, mode: GenerationMode, base_url: str) -> None:
    """Up to EXAMPLES generated requests for one operation; none may answer 5xx."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @FUZZ_SETTINGS
    def call(case: Any) -> None:
        response = case.call_and_validate(base_url=base_url, checks=[not_a_server_error])
        content_type = response.headers.get("content-type", [""])[0]
        assert_problem(response.status_code, content_type, response.json)

    call()


@pytest.fixture(scope="module")
def fuzzed(api: LiveApi) -> tuple[LiveApi, str]:
    keys = new_keypair()
    app = api.register(keys)
    return api, token_for(app["id"], keys, ttl_s=3600)


def test_no_input_makes_a_server_error(fuzzed: tuple[LiveApi, str]) -> None:
    api, token = fuzzed
    schema = hostile_schema(api.url, token)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    failures = []
    for operation in operations:
        # Negative cases break the schema; only a query or a body has a schema to break.
        modes = [GenerationMode.POSITIVE]
        if len(operation.query) or len(operation.body):
            modes.append(GenerationMode.NEGATIVE)
        for mode in modes:
            try:
                fuzz(operation, mode, api.url)
            # Every operation is fuzzed and every failure reported (schemathesis raises a
            # FailureGroup, a BaseExceptionGroup).
            except (Exception, BaseExceptionGroup) as exc:
                notes = "\n".join(getattr(exc, "__notes__", []))
                failures.append(f"{operation.label} ({mode.value}): {exc}\n{notes}")
    assert not failures, "\n\n".join(failures)


# -- multipart bodies schemathesis cannot write ---------------------------------------------

# File names built from the bytes that trouble file systems and decoders: NUL and other
# controls, slashes, dots, bytes that are not UTF-8 (a lone 0xff, a cut-off 0xc3).
NAME_BYTES = st.lists(
    st.sampled_from([b"\x00", b"\x01", b"\xff", b"\xc3", b"/", b".", b"a"]),
    max_size=8,
).map(b"".join)
FILE_NAMES = st.builds(lambda stem, ext: stem + b"." + ext, NAME_BYTES, NAME_BYTES) | NAME_BYTES


def multipart(parts: list[tuple[bytes, bytes | None, bytes]]) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body written byte by byte, so a file name can hold anything
    (an HTTP client would escape or refuse NUL and non-UTF-8 bytes)."""
    boundary = uuid.uuid4().hex.encode()
    body = b""
    for name, filename, data in parts:
        body += b"--" + boundary + b'\r\nContent-Disposition: form-data; name="' + name + b'"'
        if filename is not None:
            body += b'; filename="' + filename + b'"'
        body += b"\r\n\r\n" + data + b"\r\n"
    body += b"--" + boundary + b"--\r\n"
    return body, {"content-type": f"multipart/form-data; boundary={boundary.decode()}"}


def post_multipart(api: LiveApi, token: str, path: str, parts: list[Any]) -> httpx.Response:
    body, headers = multipart(parts)
    with api.client(token) as client:
        return client.post(path, content=body, headers=headers)


@given(filename=FILE_NAMES, audio=st.sampled_from([AUDIO, b"RIFF\x00\x00"]))
@FUZZ_SETTINGS
def test_no_file_name_makes_a_server_error(
    fuzzed: tuple[LiveApi, str], filename: bytes, audio: bytes
) -> None:
    api, token = fuzzed
    for path, parts in [
        ("/v1/transcriptions", [(b"file", filename, audio)]),
        ("/v1/recordings", [(b"record", None, b"{}"), (b"leg", filename, audio)]),
    ]:
        response = post_multipart(api, token, path, parts)
        assert response.status_code < 500, (path, filename, response.text)
        assert_problem(response.status_code, response.headers["content-type"], response.json)


@given(record=json_texts().map(str.encode) | st.binary(max_size=64))
@FUZZ_SETTINGS
def test_no_record_field_makes_a_server_error(fuzzed: tuple[LiveApi, str], record: bytes) -> None:
    """`record` as bytes, which need not be UTF-8 (schemathesis sends text only)."""
    api, token = fuzzed
    parts = [(b"record", None, record), (b"leg", b"a.wav", AUDIO)]
    response = post_multipart(api, token, "/v1/recordings", parts)
    assert response.status_code < 500, (record[:80], response.text)
    assert_problem(response.status_code, response.headers["content-type"], response.json)


# -- each bug the fuzzers found, pinned ------------------------------------------------------


def test_a_record_nested_ten_thousand_deep_is_422_naming_it(fuzzed: tuple[LiveApi, str]) -> None:
    api, token = fuzzed
    with api.client(token) as client:
        response = client.post(
            "/v1/recordings",
            data={"record": _nested("[", 10_000)},
            files={"leg": ("a.wav", AUDIO, "audio/wav")},
        )
    assert response.status_code == 422, response.text
    assert response.json()["invalid_parameters"][0]["name"] == "record"
    assert "nested too deeply" in response.json()["detail"]


@pytest.mark.parametrize("filename", [b"call.w\x00v", b"call.wav\x00", b"\x00.\x00", b"c.\xff\xfe"])
def test_a_nul_or_non_utf8_file_name_is_ignored(
    fuzzed: tuple[LiveApi, str], filename: bytes
) -> None:
    """The name is a hint for the extension only: the audio is what counts, and is taken."""
    api, token = fuzzed
    for path, parts in [
        ("/v1/transcriptions", [(b"file", filename, AUDIO)]),
        ("/v1/recordings", [(b"record", None, b"{}"), (b"leg", filename, AUDIO)]),
    ]:
        response = post_multipart(api, token, path, parts)
        assert response.status_code == 202, (path, response.text)
        with api.client(token) as client:
            recording = client.get(f"/v1/recordings/{response.json()['recording_uuid']}")
        assert recording.status_code == 200


@pytest.mark.parametrize(
    "cursor",
    ["inf_x", "1e308_x", "nan_x", "-inf_x", "-1e308_x", f"1e20_{uuid.uuid4()}", "1700000000_x"],
)
def test_a_cursor_that_is_no_time_and_uuid_is_422_naming_it(
    fuzzed: tuple[LiveApi, str], cursor: str
) -> None:
    api, token = fuzzed
    with api.client(token) as client:
        response = client.get("/v1/recordings", params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert response.json()["invalid_parameters"] == [
        {"name": "cursor", "reason": "cursor is not one this API returned"}
    ]


def test_a_cursor_the_api_wrote_still_pages(fuzzed: tuple[LiveApi, str]) -> None:
    api, token = fuzzed
    for _ in range(2):
        upload = post_multipart(api, token, "/v1/transcriptions", [(b"file", b"a.wav", AUDIO)])
        assert upload.status_code == 202, upload.text
    with api.client(token) as client:
        first = client.get("/v1/recordings", params={"limit": 1}).json()
        second = client.get("/v1/recordings", params={"limit": 1, "cursor": first["next_cursor"]})
    assert second.status_code == 200
    assert second.json()["items"][0]["recording_uuid"] != first["items"][0]["recording_uuid"]
