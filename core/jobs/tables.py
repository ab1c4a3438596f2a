"""The transactional outbox: events written in the same unit of work as the change they announce.

The outbox, not the broker, is the source of truth for background work: an event is done when
its row says so."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class OutboxEvent(TenantOwned, tablename="outbox_event"):
    event_type = Varchar(length=100)  # noun.verb_past, e.g. user.created
    aggregate_type = Varchar(length=64)
    aggregate_id = Varchar(length=64, null=True, default=None)
    payload = Text()  # JSON: ids and changed field names, never personal values
    status = Varchar(length=16, default="pending")  # pending | dispatched | done | dead
    attempts = Integer(default=0)
    available_at = Timestamptz()  # not handed out before this moment (retry backoff)
    dispatched_at = Timestamptz(null=True, default=None)
    done_at = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)
