"""Alembic environment: migrations run on the connection `transcribe.store.db.migrate` gives."""

from alembic import context

from transcribe.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
