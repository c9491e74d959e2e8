"""Persistence: the database (SQLAlchemy 2, migrated with Alembic) and the files on disk."""
