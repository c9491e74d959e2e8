"""The console as files the service serves, and the signed file links its audio player plays.

No model and no browser: the service takes uploads with no worker (the recording is stored
at once), so the links read a real stored file over real HTTP on loopback. The clock is the
test's, so a link expires without waiting a quarter of an hour."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import soundfile as sf

from transcribe.clock import ManualClock
from transcribe.console import STATIC
from transcribe.limits import FILE_LINK_TTL_S

from live import KeyPair, LiveApi, new_keypair, token_for, upload_recording
from speech import Clip

API_SETTINGS = {"embedded_worker": False}  # no model: nothing here transcribes


@pytest.fixture(scope="module")
def service_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="module")
def token(api: LiveApi, keys: KeyPair) -> str:
    return token_for(api.register(keys)["id"], keys)


@pytest.fixture(scope="module")
def recording(api: LiveApi, token: str, clips: dict[str, Clip]) -> dict[str, str]:
    """A stored recording: the path of its `recording_url`."""
    uuid = upload_recording(api, token, clips["jfk.wav"].samples)
    with api.client(token) as client:
        view = client.get(f"/v1/recordings/{uuid}").json()
    return {"url": urlsplit(view["recording_url"]).path}


@pytest.fixture
def plain(api: LiveApi) -> Iterator[httpx.Client]:
    """A client with no Authorization header, as an <audio> element is."""
    with api.client() as client:
        yield client


def _link(api: LiveApi, token: str, file_path: str) -> str:
    with api.client(token) as client:
        response = client.post(f"{file_path}/link")
    assert response.status_code == 200, response.text
    url = urlsplit(response.json()["url"])
    assert url.path == file_path
    return f"{url.path}?{url.query}"


def test_a_signed_link_plays_the_recording_with_range_and_no_header(
    api: LiveApi, token: str, recording: dict[str, str], plain: httpx.Client
) -> None:
    link = _link(api, token, recording["url"])
    with api.client(token) as client:
        whole = client.get(recording["url"]).content
    assert plain.get(recording["url"]).status_code == 401  # the file itself still needs a token
    response = plain.get(link)
    assert response.status_code == 200 and response.content == whole
    assert response.headers["content-type"] == "audio/wav"
    part = plain.get(link, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == whole[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole)}"
    data, rate = sf.read(io.BytesIO(response.content))
    assert rate == 16000 and len(data) == 11 * 16000


def test_a_link_reads_only_its_own_file_and_only_until_it_expires(
    api: LiveApi,
    token: str,
    recording: dict[str, str],
    plain: httpx.Client,
    clips: dict[str, Clip],
    service_clock: ManualClock,
) -> None:
    link = _link(api, token, recording["url"])
    path, _, query = link.partition("?")
    other_uuid = upload_recording(api, token, clips["cards_001.wav"].samples)
    with api.client(token) as client:
        other = urlsplit(client.get(f"/v1/recordings/{other_uuid}").json()["recording_url"]).path

    def refused(url: str) -> str:
        response = plain.get(url)
        assert response.status_code == 401, response.text
        return str(response.json()["detail"])

    assert "does not verify" in refused(f"{other}?{query}")  # another file, same signature
    params = parse_qs(query)
    tampered = re.sub(r"signature=[^&]+", "signature=" + "A" * 43, query)
    assert "does not verify" in refused(f"{path}?{tampered}")
    later = query.replace(f"expires={params['expires'][0]}", f"expires={params['expires'][0]}9")
    assert "does not verify" in refused(f"{path}?{later}")  # a longer life is not for the asking
    assert "needs application_id" in refused(f"{path}?signature={params['signature'][0]}")
    assert plain.delete(link).status_code == 401  # a link reads; it never deletes

    service_clock.advance(FILE_LINK_TTL_S + 1)
    try:
        assert "expired" in refused(link)
    finally:
        service_clock.advance(-(FILE_LINK_TTL_S + 1))


def test_another_application_gets_no_link_to_a_file_it_does_not_own(
    api: LiveApi, recording: dict[str, str]
) -> None:
    stranger = new_keypair()
    stranger_token = token_for(api.register(stranger)["id"], stranger)
    with api.client(stranger_token) as client:
        assert client.post(f"{recording['url']}/link").status_code == 404
    with api.client() as client:
        assert client.post(f"{recording['url']}/link").status_code == 401


def test_the_console_is_served_from_the_package_with_a_strict_content_security_policy(
    plain: httpx.Client,
) -> None:
    moved = plain.get("/console")
    assert moved.status_code == 308 and moved.headers["location"] == "/console/"
    page = plain.get("/console/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    scripts = re.findall(r'src="([^"]+)"', page.text)
    assert scripts == ["js/main.js"]
    module = plain.get("/console/js/main.js")
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")
    for bad in ("/console/nothing.js", "/console/../pyproject.toml", "/console/%2e%2e/__init__.py"):
        response = plain.get(bad)
        assert response.status_code == 404, bad
        assert response.headers["content-type"] == "application/json"


def test_every_console_file_is_served_and_nothing_is_loaded_from_elsewhere(
    plain: httpx.Client,
) -> None:
    files = [p for p in STATIC.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"index.html", "console.css", "main.js", "recording.js"}
    for path in files:
        text = path.read_text()
        assert plain.get(f"/console/{path.relative_to(STATIC).as_posix()}").text == text
        # No other origin: no CDN, no font service, no analytics.
        assert not re.search(r"https?://", text), f"{path.name} names another origin"
        imports = re.findall(r'from "([^"]+)"', text)
        assert all(i.startswith("./") for i in imports), (path.name, imports)
        for name in imports:
            assert (path.parent / Path(name)).is_file(), (path.name, name)
