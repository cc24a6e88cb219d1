"""The collector's store on SQL: SQLite by default, PostgreSQL at scale (issue #14).

:mod:`.schema` holds the tables, :mod:`.engine` opens a database and brings it to the current
schema with Alembic, :mod:`.registry` keeps the units, groups, keys and successions, and
:mod:`.store` accepts bundles into it.
"""
