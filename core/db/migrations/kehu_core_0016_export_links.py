"""Customer export download links (issue 16 point 4): a link is a row, not a credential.

The URL holds only the row's id; the download needs the requester's own sign-in, works once and
for minutes. The file key is in no row and no URL: the server derives it again at download.
No foreign key to ``long_job``: a link row is only ever read through its job's requester.
"""

from core.db.migrations import raw_migration, tenant_table

ID = "0016-export-links"
VERSION = "1.38.0"
DESCRIPTION = "customer_export_link with RLS"

_LINK = tenant_table(
    "customer_export_link",
    [
        "job_id UUID NOT NULL",
        "issued_to VARCHAR(100) NOT NULL",
        "expires_at TIMESTAMPTZ NOT NULL",
        "used_at TIMESTAMPTZ",
    ],
    indexes=(("job_id",),),
)

SQLITE = _LINK[0]
POSTGRES = _LINK[1]

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
