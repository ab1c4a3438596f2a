"""Background work: the broker and (with the outbox) durable jobs."""
