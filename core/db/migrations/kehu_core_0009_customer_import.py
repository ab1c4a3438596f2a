"""Customer import uploads; long jobs may produce binary output (XLSX exports)."""

from core.db.migrations import raw_migration, tenant_table

ID = "0009-customer-import"
VERSION = "1.38.0"
DESCRIPTION = "customer_import_upload with RLS; long_job.output_encoding"

_UPLOAD = tenant_table(
    "customer_import_upload",
    [
        "job_id UUID NOT NULL",
        "filename VARCHAR(200) NOT NULL",
        "size INTEGER NOT NULL",
        "data TEXT NOT NULL",
        "lines_done INTEGER NOT NULL DEFAULT 0",
    ],
    unique=(("job_id",),),
    references=(("job_id", "long_job"),),
)
_ENCODING = ["ALTER TABLE long_job ADD COLUMN output_encoding VARCHAR(16)"]  # null: text; base64: binary

SQLITE = _UPLOAD[0] + _ENCODING
POSTGRES = _UPLOAD[1] + _ENCODING

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
