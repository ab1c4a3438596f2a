"""Encryption at rest: the encrypted personal part of customers and contacts.

Rows written before this stay readable (an unsealed row is read as it is) until ``kehu privacy
rekey`` (the ``privacy.rekey`` job) seals them.
"""

from core.db.migrations import raw_migration

ID = "0010-encryption"
VERSION = "1.39.0"
DESCRIPTION = "customer.sealed and customer_contact.sealed hold encrypted personal fields"

_COLUMNS = ["ALTER TABLE customer ADD COLUMN sealed TEXT", "ALTER TABLE customer_contact ADD COLUMN sealed TEXT"]

SQLITE = _COLUMNS
POSTGRES = _COLUMNS

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
