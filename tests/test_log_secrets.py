"""No log line holds a credential (issue 16 point 4): redaction at the logging layer, and the
whole-run secret scan (tests/secret_scan.py) that backs it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import structlog

from core.logging import configure_logging_as, redact_text
from tests import secret_scan

REPO = Path(__file__).resolve().parents[1]
JWT = ("eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxMjMiLCJ0aWQiOiI0NTYifQ."
       "c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1mb3ItdGVzdHM")
API_KEY = f"kk_{uuid.UUID(int=7).hex}_" + "A" * 21 + "b" * 22
DB_PASSWORD = "db-Pw-91c3e0aa"
PASSWORD = "hunter2-but-long-enough"


@pytest.fixture(params=["json", "console"])
def kehu_log(request, capsys):
    """Log through kehu's configured handler; returns a function giving what it printed."""
    configure_logging_as("INFO", request.param)
    capsys.readouterr()

    def printed() -> str:
        return capsys.readouterr().err

    return printed


CASES = {
    "access log of a download link": ("uvicorn.access", '%s - "%s %s HTTP/%s" %d',
                                      ("127.0.0.1:5000", "GET", f"/exports/{JWT}", "1.1", 200), JWT),
    "query string credential": ("uvicorn.access", '%s - "%s %s HTTP/%s" %d',
                                ("127.0.0.1:5000", "GET", f"/jobs/x/output?token={PASSWORD}&a=1", "1.1", 200), PASSWORD),
    "Authorization header in a scope": ("litestar", "request headers %s",
                                        ([(b"authorization", f"Bearer {JWT}".encode()), (b"x-api-key", API_KEY.encode())],),
                                        API_KEY),
    "database URL": ("piccolo.engine", "cannot connect to %s",
                     (f"postgresql://owner:{DB_PASSWORD}@db:5432/kehu",), DB_PASSWORD),
    "libpq keywords": ("asyncpg", "connect host=db user=kehu password=%s", (DB_PASSWORD,), DB_PASSWORD),
    "API key in text": ("dramatiq", "calling with %s", (API_KEY,), API_KEY),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_library_log_lines_are_redacted(kehu_log, case):
    """Issue 16 point 4: a library's record (uvicorn access, piccolo, asyncpg, dramatiq) that carries a
    credential in a URL path, a query string, a header or a connection string prints it redacted."""
    logger, message, args, secret = CASES[case]
    logging.getLogger(logger).warning(message, *args)
    printed = kehu_log()
    assert printed.strip() and secret not in printed
    assert "[REDACTED]" in printed


def test_structured_events_are_redacted_by_key_and_by_shape(kehu_log):
    """Issue 16 point 4: kehu's own events redact values under credential names (password, token,
    Authorization, data_key...) and credential shapes anywhere (JWTs, API keys, URL passwords)."""
    structlog.get_logger("kehu.test").info(
        "login", password=PASSWORD, headers={"Authorization": f"Bearer {JWT}", "Cookie": "session=abc123456789"},
        data_key="c2VjcmV0LWRhdGEta2V5LW9mLTMyLWJ5dGVzLWxvbmc", note=f"key {API_KEY} for {JWT}",
        database=f"postgresql://kehu_app:{DB_PASSWORD}@db/kehu", username="alice")
    printed = kehu_log()
    for secret in (PASSWORD, JWT, API_KEY, DB_PASSWORD, "abc123456789", "c2VjcmV0LWRhdGEta2V5"):
        assert secret not in printed
    assert "alice" in printed  # what is not a credential stays readable


def test_logged_exceptions_have_no_locals_and_no_credentials(kehu_log):
    """Issue 16 point 4: a logged exception prints a plain traceback: no local variables (the signing
    seed below), and the URL in its message without its password."""
    def connect() -> None:
        signing_seed = "c2lnbmluZy1zZWVkLW5ldmVyLWluLWEtbG9n"  # noqa: F841
        raise ConnectionError(f"refused: postgresql://owner:{DB_PASSWORD}@db/kehu")

    try:
        connect()
    except ConnectionError:
        structlog.get_logger("kehu.test").exception("connect.failed")
        logging.getLogger("piccolo").exception("connect failed")
    printed = kehu_log()
    assert printed.count("Traceback (most recent call last)") == 2 and "in connect" in printed
    assert DB_PASSWORD not in printed and "c2lnbmluZy1zZWVk" not in printed


def test_redaction_is_idempotent():
    """Redacting twice (filter, then processor) prints the same line, not ``[REDACTED]]``."""
    line = f'GET /exports/{JWT}?token={PASSWORD}&x=1 Authorization: Bearer {JWT} postgresql://u:{DB_PASSWORD}@h/d'
    once = redact_text(line)
    assert redact_text(once) == once and "]]" not in once


# --- the scan ---------------------------------------------------------------------------------------

def test_scan_finds_a_planted_secret_and_names_only_its_kind():
    """Issue 16 point 4: the scan reports a secret in a log line by kind, logger and test, never the
    secret itself."""
    secrets = {PASSWORD: "password", JWT: "JWT", "short-pw": "password"}
    entries = [("kehu.gateway", "t::a", "nothing to see"),
               ("leaky", "t::b", f"user changed password to {PASSWORD}!"),
               ("leaky", "t::c", f"again {PASSWORD}"),
               ("uvicorn.access", "t::d", f'"GET /exports/{JWT} HTTP/1.1" 200'),
               ("x", "t::e", "pw=short-pw;")]
    findings = {(f.kind, f.logger): f for f in secret_scan.find_secrets(entries, secrets)}
    assert set(findings) == {("password", "leaky"), ("JWT", "uvicorn.access"), ("password", "x")}
    assert findings[("password", "leaky")].lines == 2 and findings[("password", "leaky")].test == "t::b"
    message = findings[("password", "leaky")].describe()
    assert "password" in message and "leaky" in message and PASSWORD not in message


def test_scan_finds_secrets_at_every_offset_and_length():
    """The k-gram search looks at every k-th position only: it must still find a secret wherever it
    starts in a line, for every length from the minimum up."""
    for length in (8, 9, 14, 15, 16, 40, 300):
        secret = (uuid.uuid4().hex * 10)[:length]
        for offset in range(0, 20):
            line = "x" * offset + secret + "y" * 3
            assert secret_scan.find_secrets([("l", "t", line)], {secret: "token"}), (length, offset)
    assert not secret_scan.find_secrets([("l", "t", "a" * 100)], {"b" * 20: "token"})


def test_secrets_this_run_creates_are_tracked():
    """The scan's hooks are live in this run: a password set, an access token, a refresh token and an
    API key become known secrets, through the module references the code calls."""
    import asyncio

    from core.identity import api_keys, passwords, sessions
    from core.identity.tokens import TokenService
    from core.settings import load_settings, new_signing_secret, resolve_signing_keys

    asyncio.run(passwords.PasswordHashing(passwords.FAST).hash("a-fresh-password-123"))
    seed = new_signing_secret()
    settings = load_settings(jwt_signing_keys=f"k1:{seed}", database_url=f"postgresql://u:{DB_PASSWORD}x@h/d")

    token, _ = TokenService.from_settings(settings).issue_access(user_id=uuid.uuid4(), tenant_id=uuid.uuid4(),
                                                                 session_id=uuid.uuid4())
    refresh = sessions.new_opaque_token(uuid.uuid4(), sessions.REFRESH_PREFIX)
    key = api_keys.new_opaque_token(uuid.uuid4(), sessions.API_KEY_PREFIX)
    assert settings.database.kind == "postgresql"  # parsing the URL records its password
    resolve_signing_keys(settings)
    kinds = secret_scan.SECRETS.kinds
    assert kinds.get("a-fresh-password-123") == "password"
    assert kinds.get(token) == "JWT" and kinds.get(refresh) == "refresh token" and kinds.get(key) == "API key"
    assert kinds.get(seed) == "JWT signing key" and kinds.get(f"{DB_PASSWORD}x") == "database password"
    from core.audit.anchors import resolve_anchor_keys
    anchor_seed = new_signing_secret()
    resolve_anchor_keys(load_settings(audit_anchor_key=anchor_seed))
    assert kinds.get(anchor_seed) == "audit anchor signing key"


def _inner_run(tmp_path: Path, body: str, *options: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(body))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.secret_scan", "-q", "-p", "no:cacheprovider",
                           *options, "test_inner.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


INNER = """
    import asyncio, logging
    from core.identity.passwords import FAST, PasswordHashing

    def test_sets_a_password():
        password = "planted-" + "password-4f2a9c"
        asyncio.run(PasswordHashing(FAST).hash(password))
        logging.getLogger("leaky").warning({log})
"""


def test_a_run_whose_logs_hold_a_secret_fails_without_printing_it(tmp_path):
    """Issue 16 point 4: a test run that logs a password it set fails (exit status 1) though every
    test passed, naming the kind of secret and the logger, not the password."""
    result = _inner_run(tmp_path, INNER.format(log='"password changed to %s", password'))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "SECRET IN LOGS: a password" in result.stdout and "'leaky'" in result.stdout
    assert "planted-password-4f2a9c" not in result.stdout + result.stderr


def test_a_parallel_run_fails_when_a_workers_logs_hold_a_secret(tmp_path):
    """make test runs on pytest-xdist workers: a worker scans its own log lines and the run (the
    controller's exit status) still fails on what it found, without printing the secret."""
    result = _inner_run(tmp_path, INNER.format(log='"password changed to %s", password'), "-n", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert "SECRET IN LOGS: a password" in result.stdout and "'leaky'" in result.stdout
    assert "planted-password-4f2a9c" not in result.stdout + result.stderr


def test_a_run_whose_logs_are_clean_passes(tmp_path):
    """The same run, logging no secret, passes: the scan does not cry wolf."""
    result = _inner_run(tmp_path, INNER.format(log='"password changed for %s", "alice"'))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SECRET IN LOGS" not in result.stdout
