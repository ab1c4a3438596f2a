"""The reception queue's tables (tenant tables: ``id``, ``tenant_id``, ``created_at`` lead their
columns; core gives them row-level security on PostgreSQL). An office is a free-text office code
(``office``: a sales office or its reception desk, as the tenant names it); a day is the tenant's
local day, ``YYYY-MM-DD`` text.

- ``real_estate_queue_day``: one queue per office and day (签到表 / 轮序表); ``version`` moves on
  every change, and a change takes this row first (``UPDATE … RETURNING``), which serialises the
  changes of one queue on PostgreSQL as SQLite's write lock does.
- ``real_estate_queue_member``: a consultant signed in to the day's queue (RE5): ``position`` is
  the rotation order (smallest: whose turn it is), the daily sales-control acknowledgement (RE3),
  eligibility removed by the manager (RE1, RE4), lost and priority turns (RE7), counted receptions.
- ``real_estate_arrival``: a walk-in customer waiting to be received, then received (``reception_id``).
- ``real_estate_reception``: who received whom and how (rotation, owner, duty, designated,
  transfer), whether it counted toward the rotation, the ledger entries it wrote and when the sales
  clerk confirmed them (RE19, RE21). One active
  reception per consultant (RE10) is a unique partial index.
"""

from __future__ import annotations

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.plugins import PluginMigration, TenantTable, tenant_table_migration


class QueueDay(TenantTable, tablename="real_estate_queue_day"):
    office = Varchar(length=64)
    day = Varchar(length=10)
    version = Integer(default=1)


class QueueMember(TenantTable, tablename="real_estate_queue_member"):
    queue_day_id = UUID()
    consultant_id = UUID()
    position = Integer()
    signed_in_at = Timestamptz()
    sales_control_ack_at = Timestamptz(null=True, default=None)
    eligible = Boolean(default=True)
    eligibility_reason = Text(null=True, default=None)
    lost_turns = Integer(default=0)
    priority_turns = Integer(default=0)
    counted = Integer(default=0)


class Arrival(TenantTable, tablename="real_estate_arrival"):
    queue_day_id = UUID()
    customer_id = UUID(null=True, default=None)
    first_visit = Boolean(default=True)
    note = Text(null=True, default=None)
    arrived_at = Timestamptz()
    recorded_by = Varchar(length=100)
    status = Varchar(length=16)  # waiting | received | left
    reception_id = UUID(null=True, default=None)


class Reception(TenantTable, tablename="real_estate_reception"):
    queue_day_id = UUID()
    arrival_id = UUID()
    customer_id = UUID(null=True, default=None)
    consultant_id = UUID()
    kind = Varchar(length=16)  # rotation | owner | duty | designated | transfer
    counted = Boolean(default=False)
    rule = Varchar(length=16)  # the rule that chose the consultant (RE5, RE8, RE14, RE15, …)
    on_behalf_of = UUID(null=True, default=None)
    first_visit = Boolean(default=True)
    new_customer = Boolean(default=False)  # no valid owner: the visit registers the customer
    visit_data = Text(default="{}")  # the VISIT entry's data (JSON), written when the customer is known
    from_reception_id = UUID(null=True, default=None)
    status = Varchar(length=16)  # active | ended | transferred
    started_at = Timestamptz()
    started_by = Varchar(length=100)
    ended_at = Timestamptz(null=True, default=None)
    ended_by = Varchar(length=100, null=True, default=None)
    visit_entry_id = Varchar(length=64, null=True, default=None)
    registration_entry_id = Varchar(length=64, null=True, default=None)
    confirmed_at = Timestamptz(null=True, default=None)  # the sales clerk confirmed its entries (RE21)
    confirmed_by = Varchar(length=100, null=True, default=None)


TABLES = (QueueDay, QueueMember, Arrival, Reception)


def _with(migration: PluginMigration, *statements: str) -> PluginMigration:
    """The migration with statements the table helper cannot say (partial indexes), for both dialects."""
    return PluginMigration(migration.version, migration.description, (*migration.sqlite, *statements),
                           (*migration.postgres, *statements))


MIGRATIONS = (
    tenant_table_migration(1, "reception queue per office and day", "real_estate_queue_day", [
        "office VARCHAR(64) NOT NULL",
        "day VARCHAR(10) NOT NULL",
        "version INTEGER NOT NULL DEFAULT 1",
    ], unique=(("office", "day"),)),
    tenant_table_migration(2, "consultants signed in to a queue", "real_estate_queue_member", [
        "queue_day_id UUID NOT NULL",
        "consultant_id UUID NOT NULL",
        "position INTEGER NOT NULL",
        "signed_in_at TIMESTAMPTZ NOT NULL",
        "sales_control_ack_at TIMESTAMPTZ",
        "eligible BOOLEAN NOT NULL DEFAULT TRUE",
        "eligibility_reason TEXT",
        "lost_turns INTEGER NOT NULL DEFAULT 0",
        "priority_turns INTEGER NOT NULL DEFAULT 0",
        "counted INTEGER NOT NULL DEFAULT 0",
    ], unique=(("queue_day_id", "consultant_id"),), indexes=(("consultant_id",),),
        references=(("queue_day_id", "real_estate_queue_day"),)),
    tenant_table_migration(3, "walk-in customers waiting", "real_estate_arrival", [
        "queue_day_id UUID NOT NULL",
        "customer_id UUID",
        "first_visit BOOLEAN NOT NULL DEFAULT TRUE",
        "note TEXT",
        "arrived_at TIMESTAMPTZ NOT NULL",
        "recorded_by VARCHAR(100) NOT NULL",
        "status VARCHAR(16) NOT NULL",
        "reception_id UUID",
    ], indexes=(("queue_day_id", "status", "arrived_at"), ("customer_id",)),
        references=(("queue_day_id", "real_estate_queue_day"),)),
    _with(tenant_table_migration(4, "receptions", "real_estate_reception", [
        "queue_day_id UUID NOT NULL",
        "arrival_id UUID NOT NULL",
        "customer_id UUID",
        "consultant_id UUID NOT NULL",
        "kind VARCHAR(16) NOT NULL",
        "counted BOOLEAN NOT NULL DEFAULT FALSE",
        "rule VARCHAR(16) NOT NULL",
        "on_behalf_of UUID",
        "first_visit BOOLEAN NOT NULL DEFAULT TRUE",
        "new_customer BOOLEAN NOT NULL DEFAULT FALSE",
        "visit_data TEXT NOT NULL DEFAULT '{}'",
        "from_reception_id UUID",
        "status VARCHAR(16) NOT NULL",
        "started_at TIMESTAMPTZ NOT NULL",
        "started_by VARCHAR(100) NOT NULL",
        "ended_at TIMESTAMPTZ",
        "ended_by VARCHAR(100)",
        "visit_entry_id VARCHAR(64)",
        "registration_entry_id VARCHAR(64)",
        "confirmed_at TIMESTAMPTZ",
        "confirmed_by VARCHAR(100)",
    ], indexes=(("queue_day_id", "status"), ("consultant_id", "started_at"), ("started_at",)),
        references=(("queue_day_id", "real_estate_queue_day"), ("arrival_id", "real_estate_arrival"))),
        # RE10: one active reception per consultant, whatever two callers do at the same moment.
        "CREATE UNIQUE INDEX real_estate_reception_one_active ON real_estate_reception (tenant_id, consultant_id) "
        "WHERE status = 'active'"),
)
