"""Customer access levels and user clearances (seed-004 §2.2.2 "特定级别", CSM-20).

- ``customer.access_level``: 0 (everyone who may read customers) up to 9; a user reads a customer
  only when their clearance reaches its level.
- ``app_user.clearance``: the highest level the user reads; 0 for existing users, so a tenant
  that never sets levels sees no change, except holders of ``role.grant`` over the whole tenant
  (the administrators): they get 9, so someone may give clearances (nobody gives more than their own).
"""

from core.db.migrations import raw_migration

ID = "0037-access-levels"
VERSION = "1.43.0"
DESCRIPTION = "customer.access_level and app_user.clearance"

_COLUMNS = ["ALTER TABLE customer ADD COLUMN access_level INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE app_user ADD COLUMN clearance INTEGER NOT NULL DEFAULT 0",
            "UPDATE app_user SET clearance = 9 WHERE id IN (SELECT ur.user_id FROM user_role ur JOIN role_permission rp "
            "ON rp.role_id = ur.role_id AND rp.tenant_id = ur.tenant_id "
            "WHERE rp.permission = 'role.grant' AND rp.scope = 'tenant')"]

forwards = raw_migration(ID, DESCRIPTION, sqlite=_COLUMNS, postgres=_COLUMNS)
