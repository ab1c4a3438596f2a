"""Passwords someone else chose must be changed first (issue 16 point 11).

``app_user.must_change_password`` marks a password its user did not choose (printed by ``kehu
tenants create``, set by an administrator's reset); a login of such a user, or of one whose
password has expired, opens a session with ``auth_session.password_change_required`` set, which
can do nothing but change the password. INTEGER 0/1 reads the same on SQLite and PostgreSQL.
"""

from core.db.migrations import raw_migration

ID = "0017-password-change"
VERSION = "1.38.0"
DESCRIPTION = "app_user.must_change_password and auth_session.password_change_required"

_COLUMNS = ["ALTER TABLE app_user ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE auth_session ADD COLUMN password_change_required INTEGER NOT NULL DEFAULT 0"]

SQLITE = _COLUMNS
POSTGRES = _COLUMNS

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
