"""A sign-in's reads and writes, one statement each (issue 27, P4; PostgreSQL only).

A sign-in is paced by its password hash, and every CPU millisecond the server spends around the
hash is one another sign-in's hash cannot use: on a loaded server PostgreSQL, the event loop and
argon2 share the cores. A sign-in was two transactions and seven round trips (BEGIN with the
tenant, the read, COMMIT; BEGIN, the session, the audit entry, COMMIT), each a wake-up of the
backend and of the loop. These functions make it two statements, each its own transaction:

- ``kehu_sign_in_read``: sets row-level security's tenant from the slug (transaction-local, so
  it ends with the statement), then reads what a sign-in needs, as one query.
- ``kehu_sign_in_open``: moves the tenant's audit head with a compare-and-set first; when the head
  has moved elsewhere it writes nothing and returns NULL (the caller then signs in through a unit
  of work, as before). Otherwise it records the login, opens the session with its first refresh
  token and appends the ``login.succeeded`` entry the caller hashed, and returns its position.

Both are SECURITY INVOKER (the default): they run as the app role, under ``tenant_isolation``
like any statement of it, and grant nothing the role could not do in a transaction of its own,
so EXECUTE stays with PUBLIC. The explicit casts make each column the declared type.
"""

from core.db.migrations import raw_migration

ID = "0043-sign-in-statements"
VERSION = "1.45.0"
DESCRIPTION = "kehu_sign_in_read and kehu_sign_in_open: a sign-in's read and write, one statement each"

_READ = """
CREATE OR REPLACE FUNCTION kehu_sign_in_read(p_slug text, p_username text, p_password_policy_key text,
    p_lockout_policy_key text, p_sign_in_policy_key text, p_account text, p_address text)
RETURNS TABLE (tenant_id uuid, user_id uuid, password_hash text, status text, password_changed_at timestamptz,
    must_change_password integer, password_policy text, lockout_policy text, sign_in_policy text,
    account_throttle text, account_locked_until timestamptz, account_failures integer,
    account_window_started_at timestamptz, address_throttle text, address_locked_until timestamptz,
    totp_secret text, totp_confirmed_at timestamptz, totp_last_step bigint, totp_recovery_codes text)
LANGUAGE plpgsql SET search_path = public, pg_temp AS $body$
BEGIN
    PERFORM set_config('app.tenant_id', coalesce((SELECT t.id::text FROM tenant t WHERE t.slug = p_slug
                                                  AND t.status = 'active'), ''), true);
    RETURN QUERY
    SELECT t.id, u.id, u.password_hash::text, u.status::text, u.password_changed_at, u.must_change_password::integer,
           pp.value::text, lp.value::text, sp.value::text,
           ta.subject::text, ta.locked_until, ta.failures::integer, ta.window_started_at,
           tb.subject::text, tb.locked_until,
           te.secret::text, te.confirmed_at, te.last_step::bigint, te.recovery_codes::text
    FROM tenant t
    LEFT JOIN app_user u ON u.tenant_id = t.id AND u.username = p_username
    LEFT JOIN tenant_setting pp ON pp.tenant_id = t.id AND pp.key = p_password_policy_key
    LEFT JOIN tenant_setting lp ON lp.tenant_id = t.id AND lp.key = p_lockout_policy_key
    LEFT JOIN tenant_setting sp ON sp.tenant_id = t.id AND sp.key = p_sign_in_policy_key
    LEFT JOIN totp_enrolment te ON te.tenant_id = t.id AND te.user_id = u.id
    LEFT JOIN login_throttle ta ON ta.tenant_id = t.id AND ta.subject = p_account
    LEFT JOIN login_throttle tb ON tb.tenant_id = t.id AND tb.subject = p_address
    WHERE t.slug = p_slug AND t.status = 'active';
END $body$
"""

_OPEN = """
CREATE OR REPLACE FUNCTION kehu_sign_in_open(p_tenant uuid, p_user uuid, p_at timestamptz, p_rehash text,
    p_session uuid, p_created timestamptz, p_expires timestamptz, p_client_address text,
    p_password_change_required integer, p_totp_enrolment_required integer, p_token uuid, p_token_hash text,
    p_after_seq bigint, p_after_hash text, p_entry uuid, p_seq bigint, p_occurred_at timestamptz, p_actor text,
    p_entry_client_address text, p_request_id text, p_action text, p_target_type text, p_target_id text,
    p_diff text, p_hash text)
RETURNS bigint
LANGUAGE plpgsql SET search_path = public, pg_temp AS $body$
BEGIN
    PERFORM set_config('app.tenant_id', p_tenant::text, true);
    -- The head first: when another writer moved it, nothing is written and the caller takes the
    -- unit of work's way (which reads the head under its lock).
    UPDATE audit_chain SET last_seq = p_seq, last_hash = p_hash, last_at = p_occurred_at
     WHERE tenant_id = p_tenant AND last_seq = p_after_seq AND last_hash = p_after_hash;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    UPDATE app_user SET last_login_at = p_at, password_hash = coalesce(p_rehash, password_hash)
     WHERE tenant_id = p_tenant AND id = p_user;
    INSERT INTO auth_session (id, tenant_id, created_at, user_id, expires_at, client_address,
                              password_change_required, totp_enrolment_required)
    VALUES (p_session, p_tenant, p_created, p_user, p_expires, p_client_address, p_password_change_required,
            p_totp_enrolment_required);
    INSERT INTO refresh_token (id, tenant_id, created_at, session_id, token_hash, expires_at)
    VALUES (p_token, p_tenant, p_created, p_session, p_token_hash, p_expires);
    INSERT INTO audit_entry (id, tenant_id, seq, occurred_at, actor, client_address, request_id, action,
                             target_type, target_id, diff, prev_hash, hash)
    VALUES (p_entry, p_tenant, p_seq, p_occurred_at, p_actor, p_entry_client_address, p_request_id, p_action,
            p_target_type, p_target_id, p_diff, p_after_hash, p_hash);
    RETURN p_seq;
END $body$
"""

forwards = raw_migration(ID, DESCRIPTION, sqlite=[], postgres=[_READ, _OPEN])
