"""Which verticals a tenant has enabled, and its overrides of their parameters."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class VerticalEnablement(TenantOwned, tablename="vertical_enablement"):
    """One row per tenant and vertical it has ever enabled; disabling keeps the overrides, so
    enabling again restores them."""

    vertical_id = Varchar(length=40)
    status = Varchar(length=16, default="enabled")  # enabled | disabled
    overrides = Text(default="{}")  # JSON {parameter key: value}; only keys that differ from nothing
    version = Integer(default=1)  # bumped by every change, for optimistic concurrency
    updated_at = Timestamptz()
    updated_by = Varchar(length=100)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = (VerticalEnablement,)
