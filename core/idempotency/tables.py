"""The stored first responses of idempotent mutations (core.idempotency.service)."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class IdempotencyRecord(TenantOwned, tablename="idempotency_record"):
    """One ``Idempotency-Key`` of one caller: in flight while ``completed_at`` is null (held by
    ``owner`` until ``locked_until``), then the sealed first response until ``expires_at``."""

    caller = Varchar(length=100)  # user:<id> or apikey:<id>: keys are per tenant and per caller
    idempotency_key = Varchar(length=255)
    fingerprint = Varchar(length=120)  # keyed hash of the canonical body, never the body itself
    owner = UUID()  # the attempt that holds the key; only it may complete or release it
    locked_until = Timestamptz()
    status_code = Integer(null=True, default=None)
    response = Text(null=True, default=None)  # sealed: a response may hold personal data
    completed_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz()


IDEMPOTENCY_TABLES = (IdempotencyRecord,)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = IDEMPOTENCY_TABLES
