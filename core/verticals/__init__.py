"""Per-tenant enablement of vertical plugins and the tenant's overrides of their parameters."""
