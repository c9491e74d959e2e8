"""GET /v1/search on SQLite (FTS5) and PostgreSQL (tsvector), the same tests on each.

The transcripts are the labelled calls of tests/data/calls, with their hand-made labels as
the analytics lists; each goes in the way a transcription job's result does: a real WAV is
uploaded over HTTP, then `Lifecycle.transcription_finished` stores its document (the
service runs no worker, so no model is loaded). PostgreSQL is the machine's
(127.0.0.1:5432, database `test`), in a fresh schema per service, dropped afterwards; its
tests skip, saying so, where it does not answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from postgres import fresh_schema
from transcribe.api import create_app
from transcribe.clock import ManualClock
from transcribe.config import Settings
from transcribe.document import Channel, Sentence, TranscriptionDocument, Word
from transcribe.service import Service
from transcribe.store.db import MIGRATIONS, migrate
from transcribe.store.models import SearchSentence

from evaluation import LabelledCall, load_call
from live import new_keypair, token_for
from speech import SPEECH_DIR

CALLS = Path(__file__).parent / "data" / "calls"
AUDIO = (SPEECH_DIR / "cards_001.wav").read_bytes()
BILLING = "dev/01-billing-double-charge.txt"  # "refund" in three sentences, one an action item
LATE = "dev/11-support-delivery-late.txt"  # "Would you like a replacement or a refund?"
RETURN = "dev/16-support-refund-return.txt"  # "refund" in three sentences
DENTIST = "dev/03-scheduling-dentist.txt"  # "Parkside Dental", and no refund


@contextmanager
def database(kind: str) -> Iterator[str]:
    """'' (SQLite in the data dir) or the URL of a fresh PostgreSQL schema."""
    if kind == "sqlite":
        yield ""
        return
    with fresh_schema() as url:
        yield url


def labelled_document(call: LabelledCall) -> TranscriptionDocument:
    """The call as a transcript whose analytics lists are its labels."""
    document = call.document()
    seen = [0] * call.channels
    for labelled in call.sentences:
        sentence = document.channels[labelled.channel].transcript[seen[labelled.channel]]
        seen[labelled.channel] += 1
        sentence.questions = labelled.texts("questions")
        sentence.answers = labelled.texts("answers")
        sentence.action_items = labelled.texts("action_items")
    return document


def one_sentence(text: str, timestamp: int = 1200) -> TranscriptionDocument:
    """A one-channel transcript of one sentence, timed like speech."""
    words = [
        Word(
            word=f"w{i}",
            start_time=timestamp + 300 * i,
            end_time=timestamp + 300 * i + 250,
            confidence=0.9,
        )
        for i in range(len(text.split()))
    ]
    sentence = Sentence(
        sentence=text,
        timestamp=timestamp,
        duration=words[-1].end_time - timestamp,
        raw_sentence=" ".join(w.word for w in words),
        words=words,
    )
    return TranscriptionDocument(channels=[Channel(transcript=[sentence], duration=30.0)])


@dataclass
class World:
    """The service on one database, its HTTP client, and two applications, `a` and `b`."""

    client: TestClient
    service: Service
    clock: ManualClock
    tokens: dict[str, str]

    def transcribed(self, who: str, document: TranscriptionDocument | str) -> str:
        """Upload a real WAV as application `who`, then store `document` (or the labelled
        call at that path) as its transcript; the recording's uuid."""
        if isinstance(document, str):
            document = labelled_document(load_call(CALLS / document))
        response = self.client.post(
            "/v1/transcriptions",
            files={"file": ("call.wav", AUDIO, "audio/wav")},
            headers=self.auth(who),
        )
        assert response.status_code == 202, response.text
        recording_uuid: str = response.json()["recording_uuid"]
        path = self.service.files.tmp_path(".json")
        path.write_text(document.model_dump_json())
        self.service.intake.lifecycle.transcription_finished(recording_uuid, path, None)
        return recording_uuid

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def search(self, who: str = "a", **params: Any) -> httpx.Response:
        return self.client.get("/v1/search", params=params, headers=self.auth(who))

    def hits(self, who: str = "a", **params: Any) -> list[dict[str, Any]]:
        response = self.search(who, **params)
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    def transcript(self, who: str, recording_uuid: str) -> dict[str, Any]:
        recording = self.client.get(f"/v1/recordings/{recording_uuid}", headers=self.auth(who))
        url = recording.json()["transcription"]["transcription_url"]
        document: dict[str, Any] = self.client.get(url, headers=self.auth(who)).json()
        return document

    def indexed_rows(self, recording_uuid: str) -> int:
        with self.service.db.session() as session:
            return (
                session.scalar(
                    select(func.count()).where(SearchSentence.recording_uuid == recording_uuid)
                )
                or 0
            )


@contextmanager
def world(tmp_path: Path, kind: str) -> Iterator[World]:
    with database(kind) as url:
        settings = Settings(
            data_dir=tmp_path, embedded_worker=False, database_url=url, admin_token="admin"
        )
        clock = ManualClock()
        with TestClient(create_app(settings, clock)) as client:
            service: Service = client.app.state.service  # type: ignore[attr-defined]
            tokens = {}
            for who in ("a", "b"):
                keys = new_keypair()
                app = service.applications.create(who, keys.public_pem, None, "POST")
                tokens[who] = token_for(app.id, keys, ttl_s=3600)
            yield World(client, service, clock, tokens)


# PostgreSQL's runs are in the `servers` lane; SQLite's in the fast one.
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.servers)]


@pytest.fixture(scope="module", params=DATABASES)
def calls(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, dict[str, str]]]:
    """A service holding four of `a`'s calls, an hour apart (BILLING first), and RETURN as
    `b`'s too; read-only for the tests that use it."""
    with world(tmp_path_factory.mktemp("search"), request.param) as w:
        names = {}
        for name in (BILLING, LATE, RETURN, DENTIST):
            names[name] = w.transcribed("a", name)
            w.clock.advance(3600)
        names["b"] = w.transcribed("b", RETURN)
        yield w, names


@pytest.fixture(params=DATABASES)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """An empty service, for tests that delete or let time pass."""
    with world(tmp_path, request.param) as w:
        yield w


# -- what is found, and how it is shown --------------------------------------------------


def test_a_word_finds_its_sentences_with_their_place_in_the_transcript(
    calls: tuple[World, dict[str, str]],
) -> None:
    w, names = calls
    hits = w.hits(q="refund")
    assert {h["recording_uuid"] for h in hits} == {names[BILLING], names[LATE], names[RETURN]}
    for hit in hits:
        assert "refund" in hit["sentence"].lower()
        document = w.transcript("a", hit["recording_uuid"])
        said = document["channels"][hit["channel"]]["transcript"]
        assert any(
            s["sentence"] == hit["sentence"] and s["timestamp"] == hit["timestamp"] for s in said
        ), hit
    billing = [h for h in hits if h["recording_uuid"] == names[BILLING]]
    assert [(h["channel"], h["snippet"]) for h in billing] == [
        (0, "So can you <mark>refund</mark> one of them?"),
        (
            1,
            "I&#x27;ll put the <mark>refund</mark> through right now, and you should see it back "
            "on your card in three to five business days.",
        ),
        (0, "Will I get, like, an email or something for the <mark>refund</mark>?"),
    ]


def test_newest_transcript_first_and_each_in_the_order_it_was_said(
    calls: tuple[World, dict[str, str]],
) -> None:
    w, names = calls
    hits = w.hits(q="refund")
    order = [h["recording_uuid"] for h in hits]
    assert list(dict.fromkeys(order)) == [names[RETURN], names[LATE], names[BILLING]]
    for recording in set(order):
        times = [h["timestamp"] for h in hits if h["recording_uuid"] == recording]
        assert times == sorted(times)


def test_words_must_all_match(calls: tuple[World, dict[str, str]]) -> None:
    w, names = calls
    hits = w.hits(q="Refund EMAIL")
    assert [(h["recording_uuid"], h["snippet"]) for h in hits] == [
        (
            names[BILLING],
            "Will I get, like, an <mark>email</mark> or something for the <mark>refund</mark>?",
        )
    ]
    assert w.hits(q="refund dentist") == []


def test_a_quoted_phrase_matches_its_words_in_order(calls: tuple[World, dict[str, str]]) -> None:
    w, _ = calls
    hits = w.hits(q='"put the refund"')
    assert [h["snippet"] for h in hits] == [
        "I&#x27;ll <mark>put the refund</mark> through right now, and you should see it back on "
        "your card in three to five business days."
    ]
    assert w.hits(q='"the refund put"') == []
    assert w.hits(q='"refund right"') == []  # both words, but not next to each other
    assert len(w.hits(q="refund right")) == 1
    # A phrase and a word together: both must match.
    assert len(w.hits(q='"a refund" replacement')) == 1


def test_a_prefix_matches_the_words_it_starts(calls: tuple[World, dict[str, str]]) -> None:
    w, _ = calls
    exact = w.hits(q="refund")
    prefixed = w.hits(q="refu*", limit=100)
    assert {(h["recording_uuid"], h["timestamp"]) for h in exact} <= {
        (h["recording_uuid"], h["timestamp"]) for h in prefixed
    }
    assert all("<mark>refu" in h["snippet"].lower() for h in prefixed)
    assert w.hits(q="refunds") == []  # a word is a word: no stemming
    phrase = w.hits(q='"put the ref"*')
    assert [h["snippet"].startswith("I&#x27;ll <mark>put the refund</mark> ") for h in phrase] == [
        True
    ]


def test_case_accents_and_punctuation_do_not_matter(calls: tuple[World, dict[str, str]]) -> None:
    w, _ = calls
    plain = [(h["recording_uuid"], h["timestamp"]) for h in w.hits(q="refund")]
    for q in ["REFUND", "réfund", "refund?", "refund,"]:
        assert [(h["recording_uuid"], h["timestamp"]) for h in w.hits(q=q)] == plain, q
    # "Follow-up"-like words: their parts, next to each other.
    assert [h["snippet"] for h in w.hits(q="card-processor")] == [
        "It was a glitch with the <mark>card processor</mark>, um, on our end."
    ]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "question",
            [
                "So can you refund one of them?",
                "Will I get, like, an email or something for the refund?",
            ],
        ),
        (
            "action_item",
            [
                "So can you refund one of them?",
                "I'll put the refund through right now, and you should see it back on "
                "your card in three to five business days.",
            ],
        ),
        ("answer", []),
    ],
)
def test_kind_keeps_sentences_with_a_question_answer_or_action_item(
    calls: tuple[World, dict[str, str]], kind: str, expected: list[str]
) -> None:
    w, names = calls
    hits = w.hits(q="refund", kind=kind, limit=100)
    assert [h["sentence"] for h in hits if h["recording_uuid"] == names[BILLING]] == expected
    assert [h["sentence"] for h in w.hits(q="yes that's me", kind="answer")] == ["Yes, that's me."]


def test_since_and_until_keep_calls_that_started_between(
    calls: tuple[World, dict[str, str]],
) -> None:
    w, names = calls
    started = {}
    for name in (BILLING, LATE, RETURN):
        recording = w.client.get(f"/v1/recordings/{names[name]}", headers=w.auth("a")).json()
        started[name] = recording["start_time"]
    since = {h["recording_uuid"] for h in w.hits(q="refund", since=started[LATE])}
    assert since == {names[LATE], names[RETURN]}
    until = {h["recording_uuid"] for h in w.hits(q="refund", until=started[LATE])}
    assert until == {names[BILLING]}
    between = w.hits(q="refund", since=started[LATE], until=started[RETURN])
    assert {h["recording_uuid"] for h in between} == {names[LATE]}
    # A date, or a time without a zone, is UTC.
    day = started[BILLING][:10]
    assert len(w.hits(q="refund", since=day, limit=100)) == len(w.hits(q="refund", limit=100))


def test_pages_walk_every_hit_once(calls: tuple[World, dict[str, str]]) -> None:
    w, _ = calls
    everything = w.hits(q="you", limit=100)
    assert len(everything) > 10
    walked: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": "you", "limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = w.search(**params).json()
        assert len(page["items"]) <= 3
        walked += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == everything


def test_another_applications_calls_never_appear(calls: tuple[World, dict[str, str]]) -> None:
    w, names = calls
    found_by_a = {h["recording_uuid"] for h in w.hits(q="refund", limit=100)}
    found_by_b = {h["recording_uuid"] for h in w.hits("b", q="refund", limit=100)}
    assert names["b"] not in found_by_a
    assert found_by_b == {names["b"]}
    # b's only call says exactly what a's RETURN says, and nothing of a's leaks into it.
    assert w.hits("b", q="dental") == [] != w.hits(q="dental")


def test_a_snippet_is_safe_html(fresh: World) -> None:
    text = 'Is the <b>AT&T</b> plan "cheaper" than ours? <script>alert(1)</script>'
    recording = fresh.transcribed("a", one_sentence(text))
    [hit] = fresh.hits(q="cheaper script")
    assert hit["recording_uuid"] == recording and hit["sentence"] == text
    assert hit["snippet"] == (
        "Is the &lt;b&gt;AT&amp;T&lt;/b&gt; plan &quot;<mark>cheaper</mark>&quot; than ours? "
        "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt;"
    )
    assert [h["snippet"] for h in fresh.hits(q="at&t")] == [
        "Is the &lt;b&gt;<mark>AT&amp;T</mark>&lt;/b&gt; plan &quot;cheaper&quot; than ours? "
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    ]


def test_a_long_sentence_is_cut_around_its_first_match(fresh: World) -> None:
    words = [f"word{i}" for i in range(80)]
    words[50] = "invoice"
    fresh.transcribed("a", one_sentence(" ".join(words) + "."))
    [hit] = fresh.hits(q="invoice")
    assert hit["sentence"].startswith("word0 ")
    assert (
        hit["snippet"]
        == "… " + " ".join(words[43:73]).replace("invoice", "<mark>invoice</mark>") + " …"
    )


# -- the index follows the transcripts ----------------------------------------------------


def test_a_deleted_recording_or_transcript_is_no_longer_found(fresh: World) -> None:
    kept = fresh.transcribed("a", BILLING)
    deleted = fresh.transcribed("a", BILLING)
    transcript_gone = fresh.transcribed("a", BILLING)
    assert {h["recording_uuid"] for h in fresh.hits(q="refund")} == {kept, deleted, transcript_gone}

    response = fresh.client.delete(f"/v1/recordings/{deleted}", headers=fresh.auth("a"))
    assert response.status_code == 204
    recording = fresh.client.get(f"/v1/recordings/{transcript_gone}", headers=fresh.auth("a"))
    url = recording.json()["transcription"]["transcription_url"]
    assert fresh.client.delete(url, headers=fresh.auth("a")).status_code == 204

    assert {h["recording_uuid"] for h in fresh.hits(q="refund")} == {kept}
    assert fresh.indexed_rows(deleted) == fresh.indexed_rows(transcript_gone) == 0


def test_an_expired_transcript_is_not_found_and_the_sweep_drops_it(fresh: World) -> None:
    old = fresh.transcribed("a", BILLING)
    fresh.clock.advance(fresh.service.settings.retention.total_seconds() - 60)
    new = fresh.transcribed("a", BILLING)
    fresh.clock.advance(120)  # `old` is past its retention; the sweep has not run yet
    assert {h["recording_uuid"] for h in fresh.hits(q="refund")} == {new}
    assert fresh.indexed_rows(old) > 0
    fresh.service.sweep.purge_expired()
    assert fresh.indexed_rows(old) == 0 and fresh.indexed_rows(new) > 0


def test_transcripts_stored_before_search_existed_are_indexed_by_the_migration(
    fresh: World,
) -> None:
    recording = fresh.transcribed("a", BILLING)
    before = fresh.hits(q="refund")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with fresh.service.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0002_ncco")  # as the database was before this feature
    migrate(fresh.service.db.engine, fresh.service.settings.files_dir)
    after = fresh.hits(q="refund")
    assert [h["recording_uuid"] for h in after] == [recording] * 3
    assert [(h["channel"], h["timestamp"], h["snippet"]) for h in after] == [
        (h["channel"], h["timestamp"], h["snippet"]) for h in before
    ]


# -- what is refused ------------------------------------------------------------------------


def test_no_token_is_401(calls: tuple[World, dict[str, str]]) -> None:
    w, _ = calls
    response = w.client.get("/v1/search", params={"q": "refund"})
    assert response.status_code == 401
    assert response.json()["title"] == "Unauthorized"


@pytest.mark.parametrize(
    ("q", "reason"),
    [
        ('"put the refund', "the quote at character 1 is never closed"),
        ('refund "put the', "the quote at character 8 is never closed"),
        ("*", "a * must end a word, as in refund*"),
        ("refund *", "a * must end a word, as in refund*"),
        ("r*", "r*: a prefix needs at least 2 letters before the *"),
        ("re*und", "re*und: a * may only end a word"),
        ("-refund", "-refund: a word must start with a letter or digit"),
        ("+refund", "+refund: a word must start with a letter or digit"),
        (":refund", ":refund: a word must start with a letter or digit"),
        ("NEAR(refund card)", "NEAR(refund: parentheses are not part of the search syntax"),
        ("(refund)", "(refund): a word must start with a letter or digit"),
        ('"refund*"', '"refund*": a * may follow the closing quote, not stand inside it'),
        ('""', '"": the phrase has no words'),
        ('"refund"card', 'put a space after the phrase "refund"'),
        ("   ", "give at least one word to search for"),
        ("", "give at least one word to search for"),
        (" ".join(["refund"] * 17), "17 terms; at most 16 are searched at once"),
        ("refund " * 37, "String should have at most 256 characters"),
        (None, "Field required"),
    ],
)
def test_a_malformed_query_is_422_naming_q(
    calls: tuple[World, dict[str, str]], q: str | None, reason: str
) -> None:
    w, _ = calls
    response = w.search(**({} if q is None else {"q": q}))
    assert response.status_code == 422, response.text
    [problem] = response.json()["invalid_parameters"]
    assert problem["name"] == "q"
    assert problem["reason"].startswith(reason), problem


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("NEAR", 0),
        ("NOT", 0),
        ("OR", 3),  # "... account number, or the phone number ...", and two more
        ("refund OR replacement", 1),  # all three words: "a replacement or a refund?"
        ("title:refund", 0),  # the words title and refund, next to each other
        ("i'll", 7),
        ("3:30", 0),
    ],
)
def test_what_fts_would_read_as_syntax_is_searched_as_words(
    calls: tuple[World, dict[str, str]], q: str, found: int
) -> None:
    w, _ = calls
    assert len(w.hits(q=q, limit=100)) == found


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-13-01"}, "since"),
        ({"until": "9999-12-31T23:59:59-14:00"}, "until"),
        ({"until": "1700000000"}, "until"),
        ({"since": "2026-12-02", "until": "2026-12-01"}, "until"),
        ({"kind": "complaint"}, "kind"),
        ({"cursor": "abc"}, "cursor"),
        ({"cursor": "-5"}, "cursor"),
        ({"cursor": "1" * 30}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
    ],
)
def test_a_bad_filter_or_cursor_is_422_naming_it(
    calls: tuple[World, dict[str, str]], params: dict[str, Any], name: str
) -> None:
    w, _ = calls
    response = w.search(q="refund", **params)
    assert response.status_code == 422, response.text
    assert [p["name"] for p in response.json()["invalid_parameters"]] == [name]


def test_every_bad_parameter_is_named_at_once(calls: tuple[World, dict[str, str]]) -> None:
    w, _ = calls
    response = w.search(q="-refund", since="soon", cursor="x")
    assert response.status_code == 422
    assert [p["name"] for p in response.json()["invalid_parameters"]] == ["q", "since", "cursor"]


def test_the_page_answer_is_what_the_openapi_schema_says(
    calls: tuple[World, dict[str, str]],
) -> None:
    w, _ = calls
    page = w.search(q="refund", limit=1).json()
    assert set(page) == {"items", "next_cursor"} and page["next_cursor"]
    assert set(page["items"][0]) == {
        "recording_uuid",
        "channel",
        "timestamp",
        "sentence",
        "snippet",
    }
    schema = w.client.get("/openapi.json").json()
    parameters = {p["name"] for p in schema["paths"]["/v1/search"]["get"]["parameters"]}
    assert {"q", "limit", "cursor", "since", "until", "kind"} <= parameters
