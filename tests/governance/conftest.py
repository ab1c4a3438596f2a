"""Governance of the customer system itself (seed-004; issue 24). Each file owns its fixtures."""
