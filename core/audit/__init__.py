"""The audit log: append-only, hash-chained per tenant, written inside every change's unit of work."""
