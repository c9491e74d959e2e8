"""search: the sentences of stored transcripts, full-text indexed

SQLite gets an FTS5 table over `search_sentences.terms` (external content, kept in step by
triggers); PostgreSQL a generated `tsvector` column with a GIN index (config `simple`: the
words are already normalised, see `transcribe.search.query`). Then every transcript
already stored is indexed, oldest first, from its document on disk (`migrate` passes the
files folder); one that cannot be read is logged and left out.

Revision ID: 0003_search
Revises: 0002_ncco
Create Date: 2026-12-06 03:00:00
"""

import logging
from collections.abc import Sequence
from pathlib import Path

import pydantic
import sqlalchemy as sa
from alembic import context, op

import transcribe.store.models
from transcribe.document import TranscriptionDocument
from transcribe.search.index import sentence_rows

revision: str = "0003_search"
down_revision: str | None = "0002_ncco"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger(__name__)

UTC_TIME = transcribe.store.models.UTCDateTime(timezone=True)

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(terms, content='search_sentences', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER search_sentences_ai AFTER INSERT ON search_sentences BEGIN "
    "INSERT INTO search_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER search_sentences_ad AFTER DELETE ON search_sentences BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, terms) VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER search_sentences_au AFTER UPDATE ON search_sentences BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, terms) VALUES ('delete', old.id, old.terms); "
    "INSERT INTO search_fts(rowid, terms) VALUES (new.id, new.terms); END",
]
POSTGRESQL = [
    "ALTER TABLE search_sentences ADD COLUMN tsv tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, terms)) STORED",
    # Without fastupdate every insert goes into the index itself, not a pending list that
    # each query scans until a vacuum: a transcript's few dozen rows cost a little more to
    # write, and queries cost the same whenever they come.
    "CREATE INDEX ix_search_sentences_tsv ON search_sentences USING GIN (tsv) "
    "WITH (fastupdate = off)",
]


def upgrade() -> None:
    sentences = op.create_table(
        "search_sentences",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("recording_uuid", sa.String(length=36), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.Integer(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("question", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Boolean(), nullable=False),
        sa.Column("action_item", sa.Boolean(), nullable=False),
        sa.Column("call_start", UTC_TIME, nullable=False),
        sa.Column("expires_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["recording_uuid"], ["recordings.uuid"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_search_sentences_application", "search_sentences", ["application_id", "id"])
    op.create_index(
        op.f("ix_search_sentences_recording_uuid"), "search_sentences", ["recording_uuid"]
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL:
        op.execute(statement)
    files_dir = context.config.attributes.get("files_dir")
    if files_dir is not None:
        _index_stored_transcripts(sentences, Path(files_dir))


def _index_stored_transcripts(sentences: sa.Table, files_dir: Path) -> None:
    recordings = sa.table(
        "recordings",
        sa.column("uuid", sa.String),
        sa.column("application_id", sa.String),
        sa.column("transcription_status", sa.String),
        sa.column("transcription_file_uuid", sa.String),
        sa.column("start_time", UTC_TIME),
        sa.column("created_at", UTC_TIME),
        sa.column("expires_at", UTC_TIME),
    )
    files = sa.table("files", sa.column("uuid", sa.String), sa.column("name", sa.String))
    bind = op.get_bind()
    stored = bind.execute(
        sa.select(recordings, files.c.name)
        .join(files, files.c.uuid == recordings.c.transcription_file_uuid)
        .where(recordings.c.transcription_status == "done")
        .order_by(recordings.c.created_at, recordings.c.uuid)
    ).all()
    indexed = 0
    for row in stored:
        try:
            document = TranscriptionDocument.model_validate_json(
                (files_dir / row.name).read_bytes()
            )
        except (OSError, pydantic.ValidationError) as exc:
            log.warning("search: transcript of %s not indexed: %s", row.uuid, exc)
            continue
        call_start = row.start_time or row.created_at
        rows = sentence_rows(row.application_id, row.uuid, call_start, row.expires_at, document)
        if rows:
            bind.execute(sentences.insert(), rows)
        indexed += 1
    if stored:
        log.info("search: indexed %d of %d stored transcripts", indexed, len(stored))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("search_sentences_ai", "search_sentences_ad", "search_sentences_au"):
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE search_fts")
    op.drop_index(op.f("ix_search_sentences_recording_uuid"), table_name="search_sentences")
    op.drop_index("ix_search_sentences_application", table_name="search_sentences")
    op.drop_table("search_sentences")
