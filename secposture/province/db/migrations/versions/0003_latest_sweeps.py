"""Each unit's latest sweep as a table the console's searches join; the findings' (unit,
sweep) index extended with the check, and their indexes on the check alone and on the
address dropped (issue #15: no search used them well, and every ingest paid for them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "latest_sweeps",
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("sweep_id", sa.String(length=128), nullable=False),
        sa.Column("started", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_latest_sweeps")),
    )
    # The sweeps already held: each unit's newest start, the greater id on a tie.
    op.execute(
        "INSERT INTO latest_sweeps (unit_id, sweep_id, started) "
        "SELECT s.unit_id, MAX(s.sweep_id), s.started FROM sweeps s "
        "JOIN (SELECT unit_id, MAX(started) AS started FROM sweeps GROUP BY unit_id) m "
        "ON m.unit_id = s.unit_id AND m.started = s.started "
        "GROUP BY s.unit_id, s.started"
    )

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_unit_id_sweep_id"))
        batch_op.drop_index(batch_op.f("ix_findings_check_id"))
        batch_op.drop_index(batch_op.f("ix_findings_ip"))
        batch_op.create_index(
            batch_op.f("ix_findings_unit_id_sweep_id_check_id"),
            ["unit_id", "sweep_id", "check_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_unit_id_sweep_id_check_id"))
        batch_op.create_index(
            batch_op.f("ix_findings_unit_id_sweep_id"), ["unit_id", "sweep_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_findings_check_id"), ["check_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_findings_ip"), ["ip"], unique=False)
    op.drop_table("latest_sweeps")
