"""Outgoing webhooks (Standard Webhooks style): tenants register endpoints; every outbox event of a
subscribed type becomes one signed delivery per endpoint, retried with backoff.

``core.webhooks.service`` manages endpoints and deliveries; importing ``core.webhooks.delivery``
registers the outbox handler and the ``webhooks`` sweep."""
