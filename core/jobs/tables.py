"""Background work tables: the transactional outbox and long jobs with their output.

The database, not the broker, is the source of truth for background work: an event or a job is
done when its row says so."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

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


class LongJob(TenantOwned, tablename="long_job"):
    """A long operation (an export, an import) run by a worker, with its progress and result.

    The row is the queue: workers claim it with a conditional update and hold a lease they renew
    while running, so a job whose worker died is picked up again when the lease runs out."""

    kind = Varchar(length=100)  # registered with core.jobs.long_jobs.job_kind, e.g. audit.export
    params = Text()  # JSON given at submission
    status = Varchar(length=16, default="queued")  # queued | running | succeeded | failed | cancelled
    requested_by = Varchar(length=100)  # the actor, e.g. user:<id>
    progress_done = Integer(default=0)
    progress_total = Integer(null=True, default=None)
    message = Text(null=True, default=None)  # what the job is doing now, for people watching
    result = Text(null=True, default=None)  # JSON summary when succeeded
    error_code = Varchar(length=64, null=True, default=None)
    error_message = Text(null=True, default=None)
    attempts = Integer(default=0)
    available_at = Timestamptz()  # not claimed before this moment (retry backoff)
    lease_until = Timestamptz(null=True, default=None)
    cancel_requested_at = Timestamptz(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    output_bytes = Integer(default=0)
    output_media_type = Varchar(length=100, null=True, default=None)
    output_name = Varchar(length=200, null=True, default=None)
    output_expires_at = Timestamptz(null=True, default=None)
    output_deleted_at = Timestamptz(null=True, default=None)
    output_encoding = Varchar(length=16, null=True, default=None)  # null: text chunks; base64: binary output


class JobOutputChunk(TenantOwned, tablename="job_output_chunk"):
    """A job's output (an export file) in ordered chunks, in the database so every API node can
    serve it and erasure can find it."""

    job_id = UUID()
    seq = Integer()
    data = Text()

# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = (OutboxEvent, LongJob, JobOutputChunk)
