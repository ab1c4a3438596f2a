"""When each tenant's audit chain last moved (issue 27, P12): ``audit_chain.last_at``.

The audit-anchor sweep, after its first pass in a process, looks only at chains that grew since
its previous pass. It found them by reading every audit entry newer than that pass: after a large
import (or, in the tick benchmark, a million generated entries) that walk grew with the entries,
249 ms at a million customers. The chain's head row now says when it last moved, set in the same
UPDATE that moves it, so the probe reads the chain heads (one row per tenant) instead. No index:
an indexed column changing on every append would cost the hot head row its heap-only updates.

Chains that have not moved since the upgrade keep NULL; the sweep's first pass in a process looks
at every chain anyway.
"""

from core.db.migrations import raw_migration

ID = "0042-audit-chain-last-at"
VERSION = "1.44.0"
DESCRIPTION = "audit_chain.last_at: when the chain last moved, for the anchor sweep's probe"

_STATEMENTS = [
    "ALTER TABLE audit_chain ADD COLUMN last_at TIMESTAMPTZ",
    # 0040 made it for the probe that walked the recent entries: every append paid for it
    "DROP INDEX IF EXISTS audit_entry_recent_due_idx",
]

forwards = raw_migration(ID, DESCRIPTION, sqlite=_STATEMENTS, postgres=_STATEMENTS)
