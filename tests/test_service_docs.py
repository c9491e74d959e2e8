"""What the service says about itself, with no internet: /docs (Swagger UI from the
swagger-ui-bundle package) and the /problems pages that error answers' `type` leads to."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from transcribe.api.errors import OTHER_PROBLEM, PROBLEM_TYPES, STATUS, problem_type

from live import KeyPair, LiveApi, token_for

# An API node: no model, so these run in the fast lane.
API_SETTINGS = {"embedded_worker": False}

CHROMIUM = Path("/usr/bin/chromium")


class Links(HTMLParser):
    """Every URL a page loads or links to: src and href attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def links(html: str) -> list[str]:
    parser = Links()
    parser.feed(html)
    return parser.urls


def test_docs_load_nothing_from_other_hosts(api: LiveApi) -> None:
    with api.client() as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        urls = links(page.text) + re.findall(r"url: '([^']+)'", page.text)
        assert any(u.endswith("swagger-ui-bundle.js") for u in urls), urls
        assert any(u.endswith(".json") for u in urls), urls  # the document it shows
        for url in urls:
            assert not urlsplit(url).netloc, f"/docs loads {url} from another host"
            assert client.get(urljoin(f"{api.url}/docs", url)).status_code == 200, url
        assert client.get("/redoc").status_code == 404  # ReDoc comes from a CDN only: off


def test_docs_document_is_openapi_30_with_every_operation(api: LiveApi) -> None:
    """Swagger UI 4 reads OpenAPI 3.0, not FastAPI's 3.1: the page gets the same operations
    said in 3.0, with uploads as binary strings (a file picker)."""
    with api.client() as client:
        original = client.get("/openapi.json").json()
        shown = client.get("/docs/openapi.json").json()
    assert original["openapi"].startswith("3.1") and shown["openapi"] == "3.0.3"
    assert shown["paths"].keys() == original["paths"].keys()
    form = shown["components"]["schemas"]["Body_transcribe_recording_v1_transcriptions_post"]
    upload = form["properties"]["file"]
    assert upload["type"] == "string" and upload["format"] == "binary"
    assert form["properties"]["language"]["nullable"] is True
    text = str(shown)
    assert "'type': 'null'" not in text and "contentMediaType" not in text


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make system-deps)")
def test_docs_render_in_a_browser_with_no_request_leaving_the_service(api: LiveApi) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(f"{api.url}/docs")
            upload = page.locator(".opblock-post", has_text="/v1/transcriptions")
            upload.first.wait_for(timeout=30_000)
            assert page.locator(".opblock").count() >= 10
            assert "Unable to render this definition" not in page.inner_text("body")
            upload.first.locator(".opblock-summary").click()
            page.get_by_role("button", name="Try it out").click()
            assert page.locator("input[type=file]").count() >= 1  # the `file` field
        finally:
            browser.close()
    assert requested and all(url.startswith(f"{api.url}/") for url in requested), requested


def test_every_problem_type_has_its_page(api: LiveApi) -> None:
    """Each type in the one table (and the one for any other status) answers with a page
    saying what it means and what to do, in HTML, or JSON when asked."""
    with api.client() as client:
        for kind in [*PROBLEM_TYPES.values(), OTHER_PROBLEM]:
            assert kind.url.startswith("/problems/")
            page = client.get(kind.url)
            assert page.status_code == 200 and "text/html" in page.headers["content-type"]
            assert f"<h1>{kind.title}</h1>" in page.text
            for section in ("What it means", "What to do"):
                assert section in page.text
            assert not [u for u in links(page.text) if urlsplit(u).netloc]
            described = client.get(kind.url, headers={"Accept": "application/json"}).json()
            assert described["title"] == kind.title and described["remedy"] == kind.remedy
        index = client.get("/problems")
        assert index.status_code == 200
        assert {f"problems/{k.slug}" for k in PROBLEM_TYPES.values()} <= set(links(index.text))
        unknown = client.get("/problems/no-such-thing")
        assert unknown.status_code == 404 and unknown.json()["type"] == "/problems/not-found"


def test_every_status_a_domain_error_maps_to_has_its_own_type() -> None:
    for error, status in STATUS:
        assert problem_type(status) is not OTHER_PROBLEM, (error.__name__, status)


def test_error_answers_point_at_their_pages(api: LiveApi, keys: KeyPair) -> None:
    app = api.register(keys)
    token = token_for(app["id"], keys)
    with api.client() as anonymous, api.client(token) as client:
        answers = [
            anonymous.get("/v1/recordings"),  # 401
            client.get("/v1/recordings/not-a-uuid"),  # 404
            client.get("/v1/recordings", params={"cursor": "junk"}),  # 422
            client.post(
                "/v1/transcriptions", content=b"RIFF", headers={"Content-Type": "audio/wav"}
            ),
            client.put("/v1/recordings"),  # 405
        ]
        assert [a.status_code for a in answers] == [401, 404, 422, 415, 405]
        for answer in answers:
            kind = answer.json()["type"]
            assert kind.startswith("/problems/"), answer.json()
            page = client.get(urljoin(f"{api.url}{answer.request.url.path}", kind))
            assert page.status_code == 200 and answer.json()["title"] in page.text
