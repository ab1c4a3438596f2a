"""Placeholder: filled in by the queue work of issue 21."""

PERMISSIONS: tuple = ()
PARAMETERS: tuple = ()
EVENT_TYPES: tuple = ()
PERSONAL_DATA: tuple = ()
ISOLATION_OPERATIONS: tuple = ()
