"""named conversations and the NCCOs that join them

A conversation action's `name` is stored so a later NCCO naming a live conversation joins
it (one open conversation of a name per application); each joining NCCO is a row of
`joined_nccos`, with its own legs_url.

Revision ID: 0002_ncco
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import transcribe.store.models

revision: str = "0002_ncco"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OPEN_NAMED = sa.text("status = 'open' AND name IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name", sa.String(length=200), nullable=True))
        batch_op.create_index(
            "uq_conversations_open_name",
            ["application_id", "name"],
            unique=True,
            sqlite_where=_OPEN_NAMED,
            postgresql_where=_OPEN_NAMED,
        )
    op.create_table(
        "joined_nccos",
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("conversation_uuid", sa.String(length=36), nullable=False),
        sa.Column("application_id", sa.String(length=36), nullable=False),
        sa.Column("ncco", sa.JSON(), nullable=False),
        sa.Column("created_at", transcribe.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"]),
        sa.ForeignKeyConstraint(["conversation_uuid"], ["conversations.uuid"]),
        sa.PrimaryKeyConstraint("uuid"),
    )
    with op.batch_alter_table("joined_nccos", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_joined_nccos_application_id"), ["application_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_joined_nccos_conversation_uuid"), ["conversation_uuid"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("joined_nccos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_joined_nccos_conversation_uuid"))
        batch_op.drop_index(batch_op.f("ix_joined_nccos_application_id"))
    op.drop_table("joined_nccos")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("uq_conversations_open_name")
        batch_op.drop_column("name")
