from piccolo.columns import UUID, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from core.db.tables import PlatformTable, TenantOwned


class Tenant(PlatformTable, tablename="tenant"):
    """A company using kehu. Platform data: it holds no personal information."""

    slug = Varchar(length=63, unique=True)
    name = Varchar(length=200)
    status = Varchar(length=20, default="active")
    created_at = Timestamptz(default=TimestamptzNow())


class Department(TenantOwned, tablename="department"):
    """A node of a tenant's company → department tree; ``parent_id`` is null at the top."""

    parent_id = UUID(null=True, default=None)
    name = Varchar(length=200)
    code = Varchar(length=63, null=True)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = (Tenant, Department)
