"""Placeholder: filled in by the management work of issue 21."""

TABLES: tuple = ()
MIGRATIONS: tuple = ()
