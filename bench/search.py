"""Benchmark: GET /v1/search's query latency over 10,000 transcribed calls.

Fills a fresh embedded store (SQLite in a temporary data dir) with calls made from real
transcripts: the 27 labelled calls of tests/data/calls (their labels give the questions,
answers and action items) and the reference transcripts of the shared speech folder. Each
call strings together stretches of two or three labelled calls, now and then a line of the
speech folder, and new names, companies and amounts, so the vocabulary and the hits per word
vary like a real call centre's (a few common words in most calls, names in a few). They go
in through the indexing code the transcription job uses (`search.index_transcript`), spread
over the last 29 days, with another application's 1,000 calls beside them.

Then a mix of queries (words, two words, phrases, prefixes, `kind`, `since`/`until`, second
and third pages, a word no call has) runs through `Search.page`, the code behind the route
(HTTP and the token check, a few tenths of a millisecond, are not in the figures), and
p50/p95/p99 are printed, overall and per kind of query. With `--postgres URL` it does the
same on PostgreSQL, in a schema of its own that is dropped afterwards, after a `VACUUM
ANALYZE` such as autovacuum runs soon after a bulk load (without statistics the planner walks
every row of the application for a rare word: 75 ms at 3,000 calls instead of 4).

Run: `.venv/bin/python bench/search.py [--calls 10000] [--postgres postgresql://...]`.
"""

from __future__ import annotations

import argparse
import random
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select, text

from transcribe.clock import ManualClock, iso
from transcribe.config import Settings
from transcribe.document import TranscriptionDocument
from transcribe.search import SentenceKind, index_transcript
from transcribe.service import Service
from transcribe.store.models import Recording, SearchSentence
from transcribe.store.states import RecordingStatus, TranscriptionStatus

from evaluation import LabelledCall, LabelledSentence, load_calls

REPO = Path(__file__).resolve().parents[1]
CALLS_DIR = REPO / "tests" / "data" / "calls"
MANIFEST = REPO.parent / "shared" / "data" / "speech" / "MANIFEST.tsv"
TARGET_P95_MS = 50.0
BATCH = 200  # calls per transaction while filling

FIRST = "Aisha Ben Carla Dmitri Elena Farid Grace Hiro Ines Jamal Kofi Lena Mateo Nadia Omar"
FIRST += " Priya Quinn Rosa Sven Tomas Uma Viktor Wen Ximena Yusuf Zoe Amara Bruno Chen Dana"
LAST = "Becker Chopra Dubois Eriksen Fischer Garcia Haddad Ivanova Jensen Kowalski Lindqvist"
LAST += " Moreau Nakamura Okafor Petrov Quispe Rossi Schmidt Tanaka Umarov Varga Weber Yilmaz"
COMPANY = "Brightline Northwind Parkside Bluewater Crestview Evergreen Harbor Ironwood Lakeshore"
COMPANY += " Meridian Oakridge Pinecrest Redstone Silverline Summit Westfield Fairmont Kingsley"
NAMES = re.compile(r"(?<=[a-z,.?!] )[A-Z][a-z]+")  # a capitalised word inside a sentence


@dataclass(frozen=True)
class Line:
    channel: int
    text: str
    lists: tuple[list[str], list[str], list[str]]  # questions, answers, action items


def source_lines() -> tuple[list[list[Line]], list[str]]:
    """The labelled calls as lines with their labels, and the speech folder's transcripts."""
    calls = [
        [
            Line(
                s.channel,
                s.text,
                (s.texts("questions"), s.texts("answers"), s.texts("action_items")),
            )
            for s in call.sentences
        ]
        for call in load_calls(CALLS_DIR)
    ]
    speech = []
    for row in MANIFEST.read_text().splitlines()[1:]:
        text = row.split("\t")[8].strip()
        if text:
            speech.append(text[0].upper() + text[1:].lower() + ("" if text[-1] in ".?!" else "."))
    return calls, speech


def make_call(rng: random.Random, calls: list[list[Line]], speech: list[str]) -> list[Line]:
    """Stretches of two or three labelled calls, with new names, and now and then a line of
    the speech folder."""
    names = [
        f"{rng.choice(FIRST.split())}",
        f"{rng.choice(LAST.split())}",
        f"{rng.choice(COMPANY.split())}",
    ]
    lines: list[Line] = []
    for call in rng.sample(calls, rng.choice([2, 3])):
        start = rng.randrange(max(1, len(call) - 6))
        lines += call[start : start + rng.randint(6, 16)]
        if rng.random() < 0.3:
            lines.append(Line(rng.randrange(2), rng.choice(speech), ([], [], [])))
    amount = f"{rng.randint(2, 900)} dollars"
    out = []
    for line in lines:
        text = NAMES.sub(lambda _: rng.choice(names), line.text)
        text = re.sub(r"\b(forty nine ninety nine|\d+ dollars)\b", amount, text)
        out.append(Line(line.channel, text, line.lists))
    return out


def document_of(lines: list[Line]) -> TranscriptionDocument:
    """A transcript timed like speech (`LabelledCall.document`) with the lines' labels."""
    labelled = LabelledCall(
        "bench",
        tuple(LabelledSentence(line.channel, line.text, False, {}) for line in lines),
    )
    document = labelled.document()
    seen = [0] * len(document.channels)
    for line in lines:
        sentence = document.channels[line.channel].transcript[seen[line.channel]]
        seen[line.channel] += 1
        sentence.questions, sentence.answers, sentence.action_items = line.lists
    return document


def fill(service: Service, application_id: str, count: int, rng: random.Random) -> float:
    """`count` transcribed calls of one application, 29 days up to the clock's now, through
    the indexing code; seconds it took."""
    calls, speech = source_lines()
    clock = service.clock
    assert isinstance(clock, ManualClock)
    end = clock.now()
    step = timedelta(days=29) / count
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        with service.db.session() as session:
            for n in range(first, min(first + BATCH, count)):
                created = end - timedelta(days=29) + step * n
                recording = Recording(
                    uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                    application_id=application_id,
                    conversation_uuid=str(uuid.uuid4()),
                    status=RecordingStatus.READY,
                    format="mp3",
                    channels=2,
                    start_time=created,
                    end_time=created + timedelta(minutes=4),
                    transcription_status=TranscriptionStatus.DONE,
                    transcription_options={"language": "en-US"},
                    created_at=created,
                    expires_at=created + service.settings.retention,
                )
                session.add(recording)
                session.flush()
                index_transcript(session, recording, document_of(make_call(rng, calls, speech)))
    return time.perf_counter() - started


Query = dict[str, Any]


def query_mix(now_iso: Callable[[int], str]) -> dict[str, list[Query]]:
    """The queries, by kind; `now_iso(days)` is the time that many days ago."""
    return {
        "word": [
            {"q": w}
            for w in [
                "refund",
                "account",
                "appointment",
                "invoice",
                "password",
                "Tanaka",
                "Meridian",
                "tomorrow",
                "charged",
                "you",
            ]
        ],
        "two words": [
            {"q": q}
            for q in [
                "refund card",
                "email confirmation",
                "account number",
                "next week",
                "cancel subscription",
            ]
        ],
        "phrase": [
            {"q": q}
            for q in [
                '"call you back"',
                '"account number"',
                '"next week"',
                '"is there anything else"',
                '"credit card"',
            ]
        ],
        "prefix": [{"q": q} for q in ["refun*", "appoint*", "pay*", "sched*", '"credit car"*']],
        "kind": [
            {"q": "refund", "kind": SentenceKind.QUESTION},
            {"q": "send", "kind": SentenceKind.ACTION_ITEM},
            {"q": "yes", "kind": SentenceKind.ANSWER},
            {"q": "you", "kind": SentenceKind.QUESTION},
        ],
        "since/until": [
            {"q": "refund", "since": now_iso(7)},
            {"q": "account", "since": now_iso(20), "until": now_iso(17)},
            {"q": "you", "since": now_iso(1)},
            {"q": "invoice", "until": now_iso(25)},
        ],
        "no match": [{"q": "zebra"}, {"q": '"refund the zebra"'}],
    }


def timed(service: Service, application_id: str, query: Query, pages: int = 1) -> list[float]:
    """Milliseconds of each page of `query`, following the cursor up to `pages` pages."""
    out = []
    cursor = None
    for _ in range(pages):
        started = time.perf_counter()
        page = service.search.page(application_id, limit=20, cursor=cursor, **query)
        out.append((time.perf_counter() - started) * 1000)
        cursor = page.next_cursor
        if cursor is None:
            break
    return out


def run(service: Service, app_id: str, rounds: int) -> dict[str, list[float]]:
    clock = service.clock
    mix = query_mix(lambda days: iso(clock.now() - timedelta(days=days)))
    for queries in mix.values():  # warm the caches once
        for query in queries:
            timed(service, app_id, query)
    times: dict[str, list[float]] = {name: [] for name in [*mix, "pages 2-3"]}
    for _ in range(rounds):
        for name, queries in mix.items():
            for query in queries:
                times[name] += timed(service, app_id, query)
        for query in mix["word"][:5]:
            times["pages 2-3"] += timed(service, app_id, query, pages=3)[1:]
    return times


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(label: str, times: dict[str, list[float]]) -> float:
    every = [t for values in times.values() for t in values]
    print(f"\n{label}: {len(every)} queries")
    print(f"{'query':<14}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for name, values in [*times.items(), ("all", every)]:
        print(
            f"{name:<14}{len(values):>6}{percentile(values, 50):>9.1f}"
            f"{percentile(values, 95):>9.1f}{percentile(values, 99):>9.1f}{max(values):>9.1f}"
        )
    return percentile(every, 95)


def public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem.decode()


@contextmanager
def postgres_schema(url: str) -> Iterator[str]:
    import psycopg

    admin = psycopg.connect(url, autocommit=True)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def bench(label: str, database_url: str, calls: int, rounds: int) -> float:
    rng = random.Random(17)
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir), embedded_worker=False, database_url=database_url
        )
        service = Service(settings, ManualClock())
        try:
            apps = [
                service.applications.create(name, public_key(), None, "POST")
                for name in ("queried", "neighbour")
            ]
            seconds = fill(service, apps[0].id, calls, rng)
            fill(service, apps[1].id, max(1, calls // 10), rng)
            if database_url:  # what autovacuum does soon after a bulk load: fresh statistics
                with service.db.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                        text("VACUUM ANALYZE search_sentences")
                    )
            with service.db.session() as session:
                sentences = session.scalar(select(func.count()).select_from(SearchSentence))
            size = ""
            if not database_url:
                megabytes = (Path(data_dir) / "transcribe.db").stat().st_size / 1e6
                size = f", database file {megabytes:.0f} MB"
            print(
                f"\n{label}: {calls:,} calls of the queried application and "
                f"{max(1, calls // 10):,} of another; {sentences:,} sentences indexed{size}; "
                f"filling the queried one took {seconds:.0f} s "
                f"({calls / seconds:.0f} calls/s through index_transcript)"
            )
            return report(label, run(service, apps[0].id, rounds))
        finally:
            service.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="times the mix runs")
    parser.add_argument("--postgres", default="", help="also on this PostgreSQL database")
    args = parser.parse_args()
    p95 = bench("SQLite (FTS5)", "", args.calls, args.rounds)
    print(f"\np95 {p95:.1f} ms on the embedded default (target under {TARGET_P95_MS:.0f} ms)")
    if args.postgres:
        with postgres_schema(args.postgres) as url:
            bench("PostgreSQL (tsvector, GIN)", url, args.calls, args.rounds)


if __name__ == "__main__":
    main()
