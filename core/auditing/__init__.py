"""The audit log's use cases: reading and exporting entries, verifying and anchoring chains,
retention. The chain itself (``core.audit``) is infrastructure every write uses; these sit above it."""
