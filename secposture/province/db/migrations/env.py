"""Alembic's environment for the collector's database.

It runs on the connection the caller passes in ``config.attributes["connection"]`` (see
:func:`secposture.province.db.engine.upgrade`)."""

from __future__ import annotations

from alembic import context

from secposture.province.db.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
