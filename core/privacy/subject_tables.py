"""Data-subject rights: requests (PIPL arts. 44-47), freezes (kept but out of processing) and
legal holds (nothing purged while one stands)."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class SubjectRequest(TenantOwned, tablename="subject_request"):
    """One request of a data subject, from receipt to fulfilment or rejection."""

    customer_id = UUID()
    kind = Varchar(length=16)  # access | correction | deletion | portability | withdrawal
    state = Varchar(length=24, default="received")  # received | identity_verified | fulfilled | rejected
    channel = Varchar(length=32, default="")  # how it came in (counter, phone, email, api)
    due_at = Timestamptz()
    requested_by = Varchar(length=100)
    changes = Text(null=True, default=None)  # JSON field changes of a correction; emptied on erasure
    identity_method = Varchar(length=64, null=True, default=None)
    identity_verified_at = Timestamptz(null=True, default=None)
    identity_verified_by = Varchar(length=100, null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    finished_by = Varchar(length=100, null=True, default=None)
    outcome = Text(null=True, default=None)  # JSON: what fulfilment did (job id, erased, frozen and why)
    rejection_reason = Text(null=True, default=None)
    job_id = UUID(null=True, default=None)
    due_soon_notified_at = Timestamptz(null=True, default=None)
    overdue_notified_at = Timestamptz(null=True, default=None)
    due_working_days = Integer(null=True, default=None)  # set when due_at counts working days
    due_provisional = Integer(default=0)  # 1: due_at counted days of a provisional calendar year


class CustomerFreeze(TenantOwned, tablename="customer_freeze"):
    """A customer kept because law or an archive rule forbids deletion, out of all processing and
    readable only with ``privacy.audit.read`` (PIPL art. 47)."""

    customer_id = UUID()
    reason = Text()
    basis = Varchar(length=200)  # the law or retention rule that forbids deletion
    frozen_by = Varchar(length=100)


class LegalHold(TenantOwned, tablename="legal_hold"):
    """While a hold stands, retention never purges the customer."""

    customer_id = UUID()
    reason = Text()
    placed_by = Varchar(length=100)
    released_at = Timestamptz(null=True, default=None)
    released_by = Varchar(length=100, null=True, default=None)


class ErasureLedger(TenantOwned, tablename="erasure_ledger"):
    """Who was erased and when (ids only): kept by the erasure use case, outside backups and without
    a foreign key to the tenant, so a restore re-erases everyone erased after its backup (R20, PIPL
    art. 47; docs/backups.md)."""

    customer_id = UUID()
    erased_at = Timestamptz()


SUBJECT_TABLES = (SubjectRequest, CustomerFreeze, LegalHold, ErasureLedger)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = SUBJECT_TABLES
