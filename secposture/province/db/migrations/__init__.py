"""Alembic migrations of the collector's database (see ../engine.py)."""
