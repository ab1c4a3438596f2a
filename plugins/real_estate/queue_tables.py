"""Placeholder: filled in by the queue work of issue 21."""

TABLES: tuple = ()
MIGRATIONS: tuple = ()
