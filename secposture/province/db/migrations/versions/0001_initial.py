"""The collector's store: registry, bundles, sweeps, findings, hosts, changes (issue #14).

Revision ID: 0001
Revises:
Create Date: 2026-12-03 09:28:46.613967
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bundles",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("sweep_id", sa.String(length=128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("received", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column(
            "data", sa.LargeBinary().with_variant(postgresql.BYTEA(), "postgresql"), nullable=True
        ),
        sa.Column("pruned_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_bundles")),
        sa.UniqueConstraint("unit_id", "sweep_id", name=op.f("uq_bundles_unit_id_sweep_id")),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("sweep_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=300), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("proto", sa.String(length=8), nullable=True),
        sa.Column("before", sa.Text(), nullable=False),
        sa.Column("after", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_changes_unit_id_sweep_id"), ["unit_id", "sweep_id"], unique=False
        )

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("sweep_id", sa.String(length=128), nullable=False),
        sa.Column("check_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("ip", sa.String(length=300), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("proto", sa.String(length=8), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("waiver", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_ip"), ["ip"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_findings_unit_id_sweep_id"), ["unit_id", "sweep_id"], unique=False
        )

    op.create_table(
        "groups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
    )
    op.create_table(
        "hosts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("sweep_id", sa.String(length=128), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=32), nullable=True),
        sa.Column("vendor", sa.String(length=300), nullable=True),
        sa.Column("hostname", sa.String(length=300), nullable=True),
        sa.Column("os", sa.String(length=300), nullable=True),
        sa.Column("device_type", sa.String(length=32), nullable=True),
        sa.Column(
            "services",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hosts")),
    )
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hosts_ip"), ["ip"], unique=False)
        batch_op.create_index(batch_op.f("ix_hosts_mac"), ["mac"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hosts_unit_id_sweep_id"), ["unit_id", "sweep_id"], unique=False
        )

    op.create_table(
        "units",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("retired_on", sa.String(length=10), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    op.create_table(
        "successions",
        sa.Column("predecessor", sa.String(length=64), nullable=False),
        sa.Column("successor", sa.String(length=64), nullable=False),
        sa.Column("effective", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["predecessor"], ["units.id"], name=op.f("fk_successions_predecessor_units")
        ),
        sa.ForeignKeyConstraint(
            ["successor"], ["units.id"], name=op.f("fk_successions_successor_units")
        ),
        sa.PrimaryKeyConstraint("predecessor", name=op.f("pk_successions")),
    )
    with op.batch_alter_table("successions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_successions_successor"), ["successor"], unique=False)

    op.create_table(
        "sweeps",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("sweep_id", sa.String(length=128), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("started", sa.String(length=40), nullable=False),
        sa.Column("finished", sa.String(length=40), nullable=True),
        sa.Column("received", sa.String(length=40), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("hosts", sa.Integer(), nullable=False),
        sa.Column("services", sa.Integer(), nullable=False),
        sa.Column("overall", sa.Float(), nullable=True),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column(
            "score",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "pillars",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "failed",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "checked",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "severity",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["digest"], ["bundles.digest"], name=op.f("fk_sweeps_digest_bundles")
        ),
        sa.PrimaryKeyConstraint("unit_id", "sweep_id", name=op.f("pk_sweeps")),
    )
    with op.batch_alter_table("sweeps", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sweeps_unit_id_started"), ["unit_id", "started"], unique=False
        )

    op.create_table(
        "unit_groups",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("group_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name=op.f("fk_unit_groups_group_id_groups")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_groups_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("unit_id", "group_id", name=op.f("pk_unit_groups")),
    )
    op.create_table(
        "unit_keys",
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_unit_keys_unit_id_units")),
        sa.PrimaryKeyConstraint("public_key", name=op.f("pk_unit_keys")),
    )
    with op.batch_alter_table("unit_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_keys_unit_id"), ["unit_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("unit_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_keys_unit_id"))

    op.drop_table("unit_keys")
    op.drop_table("unit_groups")
    with op.batch_alter_table("sweeps", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sweeps_unit_id_started"))

    op.drop_table("sweeps")
    with op.batch_alter_table("successions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_successions_successor"))

    op.drop_table("successions")
    op.drop_table("units")
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hosts_unit_id_sweep_id"))
        batch_op.drop_index(batch_op.f("ix_hosts_mac"))
        batch_op.drop_index(batch_op.f("ix_hosts_ip"))

    op.drop_table("hosts")
    op.drop_table("groups")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_unit_id_sweep_id"))
        batch_op.drop_index(batch_op.f("ix_findings_ip"))
        batch_op.drop_index(batch_op.f("ix_findings_check_id"))

    op.drop_table("findings")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_unit_id_sweep_id"))

    op.drop_table("changes")
    op.drop_table("bundles")
