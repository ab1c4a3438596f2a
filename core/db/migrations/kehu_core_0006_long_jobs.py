"""Long operations with progress (exports, imports) and their output."""

from core.db.migrations import raw_migration, tenant_table

ID = "0006-long-jobs"
VERSION = "1.38.0"
DESCRIPTION = "long_job, job_output_chunk with RLS"

_JOB = tenant_table(
    "long_job",
    [
        "kind VARCHAR(100) NOT NULL",
        "params TEXT NOT NULL",
        "status VARCHAR(16) NOT NULL DEFAULT 'queued'",
        "requested_by VARCHAR(100) NOT NULL",
        "progress_done INTEGER NOT NULL DEFAULT 0",
        "progress_total INTEGER",
        "message TEXT",
        "result TEXT",
        "error_code VARCHAR(64)",
        "error_message TEXT",
        "attempts INTEGER NOT NULL DEFAULT 0",
        "available_at TIMESTAMPTZ NOT NULL",
        "lease_until TIMESTAMPTZ",
        "cancel_requested_at TIMESTAMPTZ",
        "started_at TIMESTAMPTZ",
        "finished_at TIMESTAMPTZ",
        "output_bytes INTEGER NOT NULL DEFAULT 0",
        "output_media_type VARCHAR(100)",
        "output_name VARCHAR(200)",
        "output_expires_at TIMESTAMPTZ",
        "output_deleted_at TIMESTAMPTZ",
    ],
    indexes=(("status", "available_at"), ("requested_by", "created_at")),
)
_CHUNK = tenant_table(
    "job_output_chunk",
    [
        "job_id UUID NOT NULL",
        "seq INTEGER NOT NULL",
        "data TEXT NOT NULL",
    ],
    unique=(("job_id", "seq"),),
    references=(("job_id", "long_job"),),
)

SQLITE = _JOB[0] + _CHUNK[0]
POSTGRES = _JOB[1] + _CHUNK[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
