"""Sign-in controls and the register of refused attempts (seed-004 CSM-15, CSM-17 to CSM-19,
CSM-25; issue 24 point 3).

- ``totp_enrolment``: a user's second factor: the TOTP secret sealed with the tenant's data key,
  when it was confirmed, the last time step used (a code works once), and the recovery codes as
  a JSON list of SHA-256 hashes (each crossed out when used).
- ``sign_in_challenge``: a question asked after repeated failed sign-ins for a username; the
  answer is stored hashed, works once and expires.
- ``refused_attempt``: the security log of refusals (sign-ins, API keys from outside the
  allow-list, mutations refused for permission or validation). It is written in its own
  transaction after the refused operation rolled back; it holds no secret.
- ``auth_session.totp_enrolment_required``: a login of a user the tenant requires to use TOTP
  who has not enrolled yet: it may only enrol (INTEGER 0/1 reads alike on both databases).
"""

from core.db.migrations import raw_migration, tenant_table

ID = "0034-sign-in-controls"
VERSION = "1.43.0"
DESCRIPTION = "totp_enrolment, sign_in_challenge, refused_attempt with RLS; auth_session.totp_enrolment_required"

_TOTP = tenant_table(
    "totp_enrolment",
    [
        "user_id UUID NOT NULL",
        "secret TEXT NOT NULL",
        "confirmed_at TIMESTAMPTZ",
        "last_step BIGINT NOT NULL DEFAULT 0",
        "recovery_codes TEXT NOT NULL DEFAULT '[]'",
    ],
    unique=(("user_id",),),
    references=(("user_id", "app_user"),),
)
_CHALLENGE = tenant_table(
    "sign_in_challenge",
    [
        "username VARCHAR(64) NOT NULL",
        "answer_hash VARCHAR(64) NOT NULL",
        "expires_at TIMESTAMPTZ NOT NULL",
        "used_at TIMESTAMPTZ",
    ],
    indexes=(("username", "expires_at"),),
)
_REFUSED = tenant_table(
    "refused_attempt",
    [
        "actor VARCHAR(100) NOT NULL",
        "username VARCHAR(64)",
        "client_address VARCHAR(64)",
        "request_id VARCHAR(64)",
        "operation VARCHAR(100) NOT NULL",
        "code VARCHAR(64) NOT NULL",
        "result VARCHAR(16) NOT NULL",
        "summary TEXT NOT NULL DEFAULT '{}'",
    ],
    indexes=(("created_at",),),
)
_COLUMNS = ["ALTER TABLE auth_session ADD COLUMN totp_enrolment_required INTEGER NOT NULL DEFAULT 0"]

SQLITE = _TOTP[0] + _CHALLENGE[0] + _REFUSED[0] + _COLUMNS
POSTGRES = _TOTP[1] + _CHALLENGE[1] + _REFUSED[1] + _COLUMNS

forwards = raw_migration(ID, DESCRIPTION, sqlite=SQLITE, postgres=POSTGRES)
