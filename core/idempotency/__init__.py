"""Idempotent mutations (issue 17 point 1): a mutation sent with an ``Idempotency-Key`` header has
its response stored, so a retry with the same key and body gets that response again instead of a
second effect. ``policy`` holds the pure rules, ``service`` the stored records, ``tables`` the table;
the HTTP side is gateway.idempotency."""
