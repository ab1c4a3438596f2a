"""The attribution ledger and what is derived from it.

``attribution_entry`` is append-only: no use case updates or deletes a row (a correction or a
confirmation is a new entry naming the one it concerns in ``refers_to``); only the erasure of a
customer (PIPL) deletes its rows. ``seq`` orders the tenant's ledger (max + 1 in the writing unit of
work, unique per tenant). ``customer_relation`` is stored once per pair (the lower customer id
first) and read both ways. ``attribution_owner`` is the projection: the policy's decision after each
entry, rebuildable from the ledger (``service.replay``). JSON columns are plain text."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class AttributionEntry(TenantOwned, tablename="attribution_entry"):
    customer_id = UUID()
    vertical = Varchar(length=40)
    seq = Integer()
    kind = Varchar(length=24)  # a LedgerKind
    at = Timestamptz()  # when it happened (may be before it was recorded)
    consultant_id = UUID(null=True, default=None)
    data = Text(default="{}")
    refers_to = UUID(null=True, default=None)
    recorded_by = Varchar(length=100)
    recorded_at = Timestamptz()


class CustomerRelation(TenantOwned, tablename="customer_relation"):
    """``related_id`` is ``relation`` of ``customer_id`` (a Relation: parent = the related customer
    is a parent of the customer); read from the other side with the inverse relation."""

    customer_id = UUID()
    related_id = UUID()
    relation = Varchar(length=24)
    recorded_by = Varchar(length=100)
    recorded_at = Timestamptz()


class AttributionOwner(TenantOwned, tablename="attribution_owner"):
    customer_id = UUID()
    vertical = Varchar(length=40)
    owner_id = UUID(null=True, default=None)
    shares = Text(default="{}")
    rule = Varchar(length=60)
    explanation_en = Text(default="")
    explanation_zh = Text(default="")
    facts = Text(default="{}")
    entry_ids = Text(default="[]")
    deals = Text(default="[]")
    valid_until = Timestamptz(null=True, default=None)
    decided_at = Timestamptz()
    last_seq = Integer()


class AttributionDispute(TenantOwned, tablename="attribution_dispute"):
    """open -> opinion_given (the project manager's written opinion) -> approved (the sales
    director, not the opinion's writer: a DISPUTE_DECISION entry) | rejected."""

    customer_id = UUID()
    vertical = Varchar(length=40)
    deal_entry_id = UUID()
    opened_by = Varchar(length=100)
    opened_at = Timestamptz()
    claim = Text()
    state = Varchar(length=16)
    opinion = Text(null=True, default=None)
    fault = Text(null=True, default=None)
    contribution = Text(null=True, default=None)
    proposed_shares = Text(null=True, default=None)
    proposed_owner = UUID(null=True, default=None)
    opinion_by = Varchar(length=100, null=True, default=None)
    opinion_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=100, null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(null=True, default=None)
    decision_entry_id = UUID(null=True, default=None)
    version = Integer(default=1)


TABLES = (AttributionEntry, CustomerRelation, AttributionOwner, AttributionDispute)
