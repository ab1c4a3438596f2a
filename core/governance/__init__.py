"""Governance of the customer system itself (seed-004, issue 24): key-field change requests,
two-level deletion, fault tickets, training assessments. One module per use-case family."""
