"""The attribution engine (issue 21): an append-only ledger per customer and vertical, relations
between customers, the owner projection a vertical's policy derives from the ledger (replayable),
and disputes whose approved outcome becomes a ledger entry (RE31)."""
