"""The vertical's own table: a tenant table (``TenantTable`` gives ``id``, ``tenant_id`` and
``created_at``), named with the vertical's id as prefix."""

from piccolo.columns import UUID, Timestamptz, Varchar

from core.plugins import PluginMigration, TenantTable, tenant_table_migration


class CallbackRequest(TenantTable, tablename="callbacks_request"):
    customer_id = UUID(null=True, default=None)
    subject = Varchar(length=200)
    phone = Varchar(length=40, null=True, default=None)
    status = Varchar(length=16, default="open")  # open | overdue | done
    received_at = Timestamptz()
    due_at = Timestamptz()
    created_by = Varchar(length=100)


MIGRATIONS = [
    # Version 1 creates the table the way kehu creates its own (tenant_id, indexes, RLS).
    tenant_table_migration(1, "callback requests", "callbacks_request", [
        "customer_id UUID",
        "subject VARCHAR(200) NOT NULL",
        "phone VARCHAR(40)",
        "received_at TIMESTAMPTZ NOT NULL",
        "due_at TIMESTAMPTZ NOT NULL",
        "created_by VARCHAR(100) NOT NULL",
    ], indexes=(("due_at",),)),
    # Version 2, shipped later: `kehu migrate` applies only this one to a database at version 1.
    PluginMigration(2, "request status",
                    sqlite=["ALTER TABLE callbacks_request ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'open'"],
                    postgres=["ALTER TABLE callbacks_request ADD COLUMN status VARCHAR(16) NOT NULL DEFAULT 'open'"]),
]
