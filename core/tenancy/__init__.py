"""Tenants (companies) and their department trees."""
