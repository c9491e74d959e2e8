"""The index: written with a transcript (`index_transcript`), dropped with it (`forget`), and
read by `Search`, which answers GET /v1/search.

Each sentence with words is a row of `search_sentences`; the database's full-text index
follows the rows (SQLite: the FTS5 table `search_fts`, kept in step by triggers; PostgreSQL:
the generated `tsv` column and its GIN index), so writing and deleting rows is all there is to
keeping it current. Both are made by the migration `0003_search`.

Results come newest transcript first and, within a transcript, in the order the sentences
were said (by time, then channel). That order is the row id, descending: a transcript's rows
are inserted last-said first, so its ids run backwards through the call. Paging on the id is
cheap, and SQLite's FTS5 hands matches over in that very order, so a page of a common word
costs its page, not every sentence that holds the word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Integer, Select, column, delete, insert, select, table, text
from sqlalchemy.orm import Session

from transcribe.clock import Clock
from transcribe.document import TranscriptionDocument
from transcribe.errors import InvalidParametersError
from transcribe.search.query import QueryError, SentenceKind, Term, index_terms, parse_query
from transcribe.search.snippet import snippet
from transcribe.store.db import Database
from transcribe.store.models import Recording, SearchSentence
from transcribe.views import SearchHit, SearchPage

FTS = table("search_fts", column("rowid", Integer))  # SQLite only; see 0003_search
# The columns a search reads: id, recording_uuid, channel, timestamp, sentence.
Hits = Select[int, str, int, int, str]
_CURSOR = re.compile(r"[1-9][0-9]{0,17}")


def sentence_rows(
    application_id: str,
    recording_uuid: str,
    call_start: datetime,
    expires_at: datetime,
    document: TranscriptionDocument,
) -> list[dict[str, Any]]:
    """The rows of a transcript's sentences, in the order to insert them: last said first."""
    said = sorted(
        (
            (sentence.timestamp, channel, position, sentence)
            for channel, ch in enumerate(document.channels)
            for position, sentence in enumerate(ch.transcript)
        ),
        key=lambda entry: entry[:3],
    )
    rows = []
    for timestamp, channel, _, sentence in reversed(said):
        terms = index_terms(sentence.sentence)
        if not terms:
            continue
        rows.append(
            {
                "application_id": application_id,
                "recording_uuid": recording_uuid,
                "channel": channel,
                "timestamp": timestamp,
                "sentence": sentence.sentence,
                "terms": terms,
                "question": bool(sentence.questions),
                "answer": bool(sentence.answers),
                "action_item": bool(sentence.action_items),
                "call_start": call_start,
                "expires_at": expires_at,
            }
        )
    return rows


def index_transcript(
    session: Session, recording: Recording, document: TranscriptionDocument
) -> None:
    """Make a recording's transcript searchable, in the transaction that stores it."""
    rows = sentence_rows(
        recording.application_id,
        recording.uuid,
        recording.start_time or recording.created_at,
        recording.expires_at,
        document,
    )
    if rows:
        session.execute(insert(SearchSentence), rows)


def forget(session: Session, recording_uuid: str) -> None:
    """Drop a recording's transcript from the index (it was deleted, or expired)."""
    session.execute(delete(SearchSentence).where(SearchSentence.recording_uuid == recording_uuid))


@dataclass
class Search:
    db: Database
    clock: Clock

    def page(
        self,
        application_id: str,
        q: str,
        *,
        limit: int,
        cursor: str | None = None,
        since: str | None = None,
        until: str | None = None,
        kind: SentenceKind | None = None,
    ) -> SearchPage:
        """This application's sentences that match `q`, a page at a time. Every parameter
        that is wrong is named at once (InvalidParametersError)."""
        problems: list[tuple[str, str]] = []
        terms: list[Term] = []
        try:
            terms = parse_query(q)
        except QueryError as exc:
            problems.append(("q", str(exc)))
        since_at = _instant(since, "since", problems)
        until_at = _instant(until, "until", problems)
        if since_at and until_at and until_at <= since_at:
            problems.append(("until", "must be later than since"))
        if cursor is not None and not _CURSOR.fullmatch(cursor):
            problems.append(("cursor", "cursor is not one this API returned"))
        if problems:
            raise InvalidParametersError(problems)

        query: Hits = select(
            SearchSentence.id,
            SearchSentence.recording_uuid,
            SearchSentence.channel,
            SearchSentence.timestamp,
            SearchSentence.sentence,
        ).where(
            SearchSentence.application_id == application_id,
            SearchSentence.expires_at > self.clock.now(),
        )
        if since_at:
            query = query.where(SearchSentence.call_start >= since_at)
        if until_at:
            query = query.where(SearchSentence.call_start < until_at)
        if kind:
            query = query.where(getattr(SearchSentence, kind.value).is_(True))
        after = int(cursor) if cursor else None
        if self.db.engine.dialect.name == "sqlite":
            query = _fts5(query, terms, after)
        else:
            query = _tsquery(query, terms, after)
        with self.db.session() as session:
            rows = session.execute(query.limit(limit + 1)).all()
        items = [
            SearchHit(
                recording_uuid=row.recording_uuid,
                channel=row.channel,
                timestamp=row.timestamp,
                sentence=row.sentence,
                snippet=snippet(row.sentence, terms),
            )
            for row in rows[:limit]
        ]
        next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
        return SearchPage(items=items, next_cursor=next_cursor)


def _fts5(query: Hits, terms: list[Term], after: int | None) -> Hits:
    """SQLite: FTS5 drives the query, newest row first. Every word is quoted, so nothing in
    it is read as FTS5 syntax (and words hold only letters and digits anyway)."""
    match = " ".join('"' + " ".join(t.words) + '"' + ("*" if t.prefix else "") for t in terms)
    query = query.join(FTS, FTS.c.rowid == SearchSentence.id).where(
        text("search_fts MATCH :match").bindparams(match=match)
    )
    if after is not None:
        query = query.where(FTS.c.rowid < after)
    return query.order_by(FTS.c.rowid.desc())


def _tsquery(query: Hits, terms: list[Term], after: int | None) -> Hits:
    """PostgreSQL: the terms as a tsquery (`<->` joins a phrase's words, `:*` marks a
    prefix), against the GIN-indexed `tsv` column."""
    parts = []
    for term in terms:
        words = [f"'{word}'" for word in term.words]
        if term.prefix:
            words[-1] += ":*"
        parts.append("(" + " <-> ".join(words) + ")")
    query = query.where(
        text("search_sentences.tsv @@ to_tsquery('simple', :match)").bindparams(
            match=" & ".join(parts)
        )
    )
    if after is not None:
        query = query.where(SearchSentence.id < after)
    return query.order_by(SearchSentence.id.desc())


def _instant(value: str | None, name: str, problems: list[tuple[str, str]]) -> datetime | None:
    """An ISO 8601 time (a date alone is its midnight; no zone means UTC)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        problems.append((name, f"{value!r} is not an ISO 8601 time, such as 2026-12-01T09:30:00Z"))
        return None
