"""Customer records, their contacts, field history, match keys and merges."""

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class Customer(TenantOwned, tablename="customer"):
    """The current state of a customer. ``data`` holds the record's fields as JSON except the
    personal ones, which ``sealed`` holds encrypted (core.privacy.crypto; names stay in ``data``);
    the columns beside it are what lists filter and sort on."""

    kind = Varchar(length=16)  # person | organisation
    status = Varchar(length=16)  # potential | active | dormant | lost | terminated
    display_name = Varchar(length=200)
    owner_id = UUID(null=True, default=None)
    department_id = UUID(null=True, default=None)
    is_key = Boolean(default=False)
    access_level = Integer(default=0)  # CSM-20: read only by users cleared to this level (0: everyone)
    source_channel = Varchar(length=32, null=True, default=None)
    tags = Text(default="[]")  # JSON list, also in data
    search = Text(default="")  # lower-cased name for text search (phones are found through customer_key)
    data = Text()
    sealed = Text(null=True, default=None)  # encrypted JSON of the personal fields; null: none
    version = Integer(default=1)
    review_due_at = Timestamptz(null=True, default=None)
    last_reviewed_at = Timestamptz(null=True, default=None)
    last_reviewed_by = Varchar(length=100, null=True, default=None)
    review_notified_at = Timestamptz(null=True, default=None)
    merged_into = UUID(null=True, default=None)
    deleted_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz()
    created_by = Varchar(length=100)


class CustomerContact(TenantOwned, tablename="customer_contact"):
    customer_id = UUID()
    surname = Varchar(length=50)
    given_name = Varchar(length=50)
    position = Varchar(length=100, default="")
    phones = Text(default="[]")  # empty: the numbers are in ``sealed`` (older rows: JSON list of E.164 numbers)
    email = Varchar(length=254, null=True, default=None)  # null: in ``sealed``
    is_primary = Boolean(default=False)
    sealed = Text(null=True, default=None)  # encrypted JSON {"phones": [...], "email": ...}


class CustomerHistory(TenantOwned, tablename="customer_history"):
    """One change of a customer: which fields went from what to what, who, when and why.
    Version 1 holds every field of the created record, so replaying versions rebuilds any past state."""

    customer_id = UUID()
    version = Integer()
    changed_at = Timestamptz()
    actor = Varchar(length=100)
    reason = Text(default="")
    changes = Text()  # JSON {dotted field: [old, new]}, encrypted whole when it holds a personal field


class CustomerKey(TenantOwned, tablename="customer_key"):
    """Blind-index values (core.privacy.crypto.blind) of what duplicates and lookups match on:
    phone, identifier, name + address."""

    customer_id = UUID()
    kind = Varchar(length=16)  # phone | identifier | name_address
    value = Varchar(length=300)


class CustomerMerge(TenantOwned, tablename="customer_merge"):
    """A merge and what it moved, so it can be undone exactly within the tenant's window."""

    survivor_id = UUID()
    merged_id = UUID()
    moved = Text()  # JSON {link label: [ids moved from merged to survivor]}
    reason = Text()
    actor = Varchar(length=100)
    undo_until = Timestamptz()
    undone_at = Timestamptz(null=True, default=None)
    undone_by = Varchar(length=100, null=True, default=None)


CUSTOMER_TABLES = (Customer, CustomerContact, CustomerHistory, CustomerKey, CustomerMerge)

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = CUSTOMER_TABLES
