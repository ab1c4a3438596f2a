"""Audit tables. The app role may insert and read entries, never change or delete them."""

from piccolo.columns import UUID, BigInt, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class AuditEntry(TenantOwned, tablename="audit_entry"):
    """One entry of a tenant's hash chain: who did what to which record, and when."""

    seq = BigInt()  # position in the tenant's chain, from 1
    occurred_at = Timestamptz()
    actor = Varchar(length=100)  # user:<id>, apikey:<id>, job:<name>, cli, anonymous
    client_address = Varchar(length=64, null=True, default=None)
    request_id = Varchar(length=64, null=True, default=None)
    action = Varchar(length=100)  # noun.verb_past, e.g. customer.updated
    target_type = Varchar(length=64)
    target_id = Varchar(length=64, null=True, default=None)
    diff = Text()  # JSON: {field: {"from": …, "to": …}} or {field: {"changed": true}} when sensitive
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64)


class AuditChain(TenantOwned, tablename="audit_chain"):
    """The head of a tenant's chain; its row lock serialises writers so the chain never forks.

    ``base_seq``/``base_hash`` are where verification starts after old entries were pruned."""

    last_seq = BigInt(default=0)
    last_hash = Varchar(length=64)
    last_at = Timestamptz(null=True, default=None)  # when the head last moved (the anchor sweep's probe)
    base_seq = BigInt(default=0)
    base_hash = Varchar(length=64)


class AuditAnchor(TenantOwned, tablename="audit_anchor"):
    """No longer written or read: anchors in the database are rewritten by whoever rewrites the
    chain. Signed anchors live outside it (core/audit/anchors.py); the table stays so no
    migration is needed."""

    seq = BigInt()
    hash = Varchar(length=64)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = (AuditEntry, AuditChain, AuditAnchor)
