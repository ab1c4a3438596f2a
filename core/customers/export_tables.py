"""Download links of customer exports (core.customers.exporting)."""

from piccolo.columns import UUID, Timestamptz, Varchar

from core.db.tables import TenantOwned


class CustomerExportLink(TenantOwned, tablename="customer_export_link"):
    """One download of one export by its requester: its id is the whole URL, and is no credential
    alone (the download also needs ``issued_to``'s own sign-in); used once, before ``expires_at``."""

    job_id = UUID()
    issued_to = Varchar(length=100)  # the actor who asked for it and alone may use it: user:<id> or apikey:<id>
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


EXPORT_LINK_TABLES = (CustomerExportLink,)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = EXPORT_LINK_TABLES
