"""Settings from the environment (``KEHU_*``), validated once at start.

Every bad value stops the process with one line naming the variable and what is wrong with it.
The defaults run the embedded profile: SQLite under ``./var/`` and in-process jobs.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from core.errors import ConfigurationError

ENV_PREFIX = "KEHU_"
SIGNING_SEED_BYTES = 32  # an Ed25519 private key seed


class Profile(StrEnum):
    EMBEDDED = "embedded"
    PRODUCTION = "production"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 signing key: ``secret`` is the 32-byte private seed, base64url-encoded."""

    kid: str
    secret: str

    @property
    def seed(self) -> bytes:
        return base64.urlsafe_b64decode(self.secret + "=" * (-len(self.secret) % 4))


def new_signing_secret() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(SIGNING_SEED_BYTES)).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class DatabaseURL:
    """A parsed database address: ``sqlite:///relative/path``, ``sqlite:////abs/path`` or
    ``postgresql://user[:password]@host[:port]/dbname``."""

    raw: str
    kind: Literal["sqlite", "postgresql"]
    sqlite_path: Path | None = None

    @classmethod
    def parse(cls, raw: str) -> DatabaseURL:
        try:
            parts = urlsplit(raw)
        except ValueError as exc:
            raise ValueError(f"unparseable URL {raw!r}: {exc}") from None
        scheme = parts.scheme.lower()
        if scheme == "sqlite":
            path = raw.split("://", 1)[1]
            path = path[1:] if path.startswith("/") else path  # sqlite:///x -> x, sqlite:////x -> /x
            if not path:
                raise ValueError(f"unparseable URL {raw!r}: no database file path")
            return cls(raw=raw, kind="sqlite", sqlite_path=Path(path))
        if scheme in ("postgresql", "postgres"):
            try:
                _ = parts.port  # raises on a non-numeric port
            except ValueError:
                raise ValueError(f"unparseable URL {raw!r}: bad port") from None
            if not parts.hostname or not parts.path.strip("/"):
                raise ValueError(f"unparseable URL {raw!r}: expected postgresql://user@host:port/dbname")
            return cls(raw=raw, kind="postgresql")
        raise ValueError(
            f"unparseable URL {raw!r}: expected sqlite:///path or postgresql://user@host:port/dbname"
        )

    @property
    def is_sqlite(self) -> bool:
        return self.kind == "sqlite"

    @property
    def redacted(self) -> str:
        parts = urlsplit(self.raw)
        if parts.password:
            return self.raw.replace(f":{parts.password}@", ":***@")
        return self.raw


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


def default_hash_concurrency() -> int:
    """KEHU_PASSWORD_HASH_CONCURRENCY's default: 4, or the number of cores this process may use
    when that is fewer (P4, issue 27: on two cores, two hashing threads sign in about a tenth more
    people a second than four)."""
    return max(1, min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1))


class Settings(BaseSettings):
    """All of kehu's settings. See docs/operators.md for each one."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    profile: Profile = Profile.EMBEDDED
    database_url: str = "sqlite:///./var/kehu.sqlite3"
    migrate_database_url: str | None = None
    database_app_role: str = Field("kehu_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    database_pool_size: int = Field(10, ge=1, le=500)
    sqlite_busy_timeout_ms: int = Field(5000, ge=0, le=600_000)
    # PostgreSQL unreachable (R5, R6): connecting, waiting for a pooled connection and one statement
    # give up after these and the request answers DATABASE_UNAVAILABLE instead of hanging.
    database_connect_timeout_seconds: float = Field(5.0, gt=0, le=300)
    database_statement_timeout_seconds: float = Field(10.0, gt=0, le=3600)
    broker_url: str = "embedded"
    jwt_signing_keys: Annotated[tuple[SigningKey, ...], NoDecode] = ()
    jwt_issuer: str = "kehu"
    jwt_audience: str = "kehu-api"
    jwt_leeway_seconds: int = Field(30, ge=0, le=300)
    access_token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(30 * 86_400, ge=3600, le=365 * 86_400)
    password_hashing: Literal["owasp", "fast"] = "owasp"
    # Hashes at once per process: at most 4 (19 MiB each), and no more than the cores this process
    # may run on (more threads than cores only time-slice argon2 and cost each hash its caches).
    password_hash_concurrency: int = Field(default_factory=default_hash_concurrency, ge=1, le=64)
    rate_limit_per_minute: int = Field(600, ge=1, le=1_000_000)
    rate_limit_api_key_per_minute: int = Field(300, ge=1, le=1_000_000)
    rate_limit_anonymous_per_minute: int = Field(60, ge=1, le=1_000_000)
    # Redis connect/read timeout for the API's rate limits (docs/observability.md): when Redis does
    # not answer within it, this process limits with its own counters until Redis is back.
    rate_limit_redis_timeout_seconds: float = Field(0.25, ge=0.01, le=10)
    metrics_enabled: bool = True  # serve /metrics (Prometheus text); keep it off the public ingress
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=256)
    disabled_plugins: Annotated[tuple[str, ...], NoDecode] = ()
    broken_plugins: Literal["fail", "skip"] = "fail"  # a contract-breaking plugin stops start, or is left out whole
    plugin_hook_timeout_seconds: float = Field(5.0, gt=0, le=600)  # R18: a vertical's rule running longer fails its request (PLUGIN_TIMEOUT)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "console"] | None = None
    graphql_max_depth: int = Field(12, ge=2, le=100)
    graphql_max_aliases: int = Field(30, ge=1, le=1000)
    graphql_max_tokens: int = Field(2000, ge=50, le=100_000)
    graphql_max_document_bytes: int = Field(32_768, ge=1024, le=1_048_576)
    graphql_max_expanded_fields: int = Field(10_000, ge=100, le=1_000_000)  # selections once fragments are expanded
    graphql_introspection: bool | None = None
    graphql_max_cost: int = Field(10_000, ge=10, le=10_000_000)  # static cost of one operation
    rate_limit_cost_per_minute: int = Field(300_000, ge=10, le=1_000_000_000)  # GraphQL cost per tenant
    rate_limit_caller_cost_per_minute: int = Field(100_000, ge=10, le=1_000_000_000)  # per user, API key, address
    request_max_body_bytes: int = Field(1_048_576, ge=4096, le=104_857_600)
    page_size_max: int = Field(100, ge=1, le=1000)
    job_max_attempts: int = Field(8, ge=1, le=100)
    job_visibility_timeout_seconds: int = Field(300, ge=1, le=86_400)
    # a running long job not heard from for this long (its worker died) is claimed again
    job_lease_seconds: int = Field(60, ge=5, le=3600)
    job_concurrency: int = Field(2, ge=1, le=64)  # long jobs (exports, imports) run at once per process
    job_output_days: int = Field(7, ge=1, le=365)  # how long a job's output can be downloaded
    tick_interval_seconds: float = Field(5.0, ge=0.1, le=3600)
    shutdown_grace_seconds: int = Field(20, ge=0, le=600)
    var_dir: Path = Path("./var")
    # Webhooks may target loopback (local development and tests only; refused in production).
    webhooks_allow_loopback: bool = False
    # Webhook delivery (docs/webhooks.md): attempts in flight per process and per endpoint, the time
    # allowed for one attempt, and the per-endpoint circuit breaker (failures in a row, cool-down).
    webhooks_concurrency: int = Field(32, ge=1, le=1000)
    webhooks_endpoint_concurrency: int = Field(4, ge=1, le=64)
    webhooks_timeout_seconds: float = Field(10.0, ge=0.5, le=60)
    webhooks_breaker_failures: int = Field(5, ge=1, le=1000)
    webhooks_breaker_cooldown_seconds: int = Field(60, ge=1, le=86_400)
    # Master keys for personal data at rest, "id:base64 32 bytes", comma-separated; the first encrypts.
    data_keys: Annotated[tuple[tuple[str, str], ...], NoDecode] = ()
    # Audit anchors (docs/operators.md, Audit log): signed chain heads kept outside the database.
    # The key is an Ed25519 seed (base64url); embedded without it, one is generated into var_dir.
    audit_anchor_key: str | None = None
    audit_anchor_public_keys: Annotated[tuple[str, ...], NoDecode] = ()  # retired keys still trusted
    audit_anchor_dir: Path | None = None  # embedded default: var_dir/audit-anchors; production: required
    audit_anchor_interval_seconds: int = Field(300, ge=1, le=86_400)
    audit_anchor_grace_seconds: int = Field(86_400, ge=60, le=30 * 86_400)  # older unanchored entries fail verify
    # Idempotency-Key (docs/integrators.md, Idempotency): how long a first response is replayed,
    # and how long a duplicate waits for a first request still running before 409.
    idempotency_ttl_hours: int = Field(24, ge=1, le=30 * 24)
    idempotency_wait_seconds: float = Field(10.0, ge=0, le=300)
    # TLS only (seed-004 CSM-25): refuse plain-HTTP requests (all but /healthz and /readyz). The
    # scheme is the connection's, or X-Forwarded-Proto from a proxy uvicorn trusts
    # (FORWARDED_ALLOW_IPS). Unset: on in the production profile, off in the embedded one.
    require_https: bool | None = None
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto uvicorn trusts (comma-separated addresses
    # or networks, "*" for any); unset: uvicorn's FORWARDED_ALLOW_IPS, else 127.0.0.1.
    forwarded_allow_ips: str | None = None
    # Backups (docs/backups.md, seed-002 R1-08): the key that encrypts them (base64 of 32 bytes; kept
    # out of the file and the logs), where the monthly backup goes (unset: no scheduled backup) and
    # how many of each tenant's scheduled backups are kept there.
    backup_key: str | None = None
    backup_dir: Path | None = None
    backup_retention: int = Field(12, ge=1, le=1200)

    @field_validator("backup_key")
    @classmethod
    def _backup_key_is_32_bytes(cls, value: str | None) -> str | None:
        if value is not None:
            text = value.strip()
            try:
                raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                                       validate=True)
            except ValueError:
                raw = b""
            if len(raw) != 32:
                raise ValueError("expected 32 bytes in base64 (make one with: python -c 'import base64, os; "
                                 "print(base64.b64encode(os.urandom(32)).decode())')")
        return value

    @field_validator("database_url", "migrate_database_url")
    @classmethod
    def _database_url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            DatabaseURL.parse(value)
        return value

    @field_validator("broker_url")
    @classmethod
    def _broker_url_known(cls, value: str) -> str:
        if value == "embedded":
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("redis", "rediss") or not parts.hostname:
            raise ValueError(f"unparseable URL {value!r}: expected 'embedded' or redis://host:port/db")
        return value

    @field_validator("jwt_signing_keys", mode="before")
    @classmethod
    def _parse_signing_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        keys = []
        for item in _split_list(value):  # type: ignore[union-attr]
            kid, sep, secret = item.partition(":")
            if not sep or not kid or not secret:
                raise ValueError("expected a comma-separated list of kid:secret; the first one signs")
            key = SigningKey(kid=kid, secret=secret)
            try:
                valid = len(key.seed) == SIGNING_SEED_BYTES
            except ValueError:
                valid = False
            if not valid:
                raise ValueError(
                    f"key {kid!r} is not a base64url Ed25519 seed of {SIGNING_SEED_BYTES} bytes "
                    "(make one with: python -c 'from core.settings import new_signing_secret as n; print(n())')"
                )
            keys.append(key)
        if len({key.kid for key in keys}) != len(keys):
            raise ValueError("key ids must be unique")
        return tuple(keys)

    @field_validator("data_keys", mode="before")
    @classmethod
    def _parse_data_keys(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        keys = []
        for item in _split_list(value):  # type: ignore[union-attr]
            kid, sep, secret = item.partition(":")
            try:
                valid = bool(sep) and kid.replace("-", "").replace("_", "").isalnum() and len(kid) <= 32 and len(
                    base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) == 32
            except ValueError:
                valid = False
            if not valid:
                raise ValueError("expected a comma-separated list of id:key, each key 32 bytes in base64url "
                                 "(make one with: python -c 'from core.settings import new_signing_secret as n; print(n())')")
            keys.append((kid, secret))
        if len({kid for kid, _ in keys}) != len(keys):
            raise ValueError("key ids must be unique")
        return tuple(keys)

    _split_cors = field_validator("cors_origins", mode="before")(lambda cls, v: _split_list(v))
    _split_disabled = field_validator("disabled_plugins", mode="before")(lambda cls, v: _split_list(v))
    _split_anchor_keys = field_validator("audit_anchor_public_keys", mode="before")(lambda cls, v: _split_list(v))

    @model_validator(mode="after")
    def _profile_rules(self) -> Settings:
        database = self.database
        if database.is_sqlite and self.workers > 1:
            raise ValueError(
                "KEHU_WORKERS: SQLite allows only one API process; use PostgreSQL for more workers"
            )
        if self.profile is Profile.PRODUCTION:
            if not self.jwt_signing_keys:
                raise ValueError("KEHU_JWT_SIGNING_KEYS: the production profile needs at least one signing key")
            if database.is_sqlite:
                raise ValueError("KEHU_DATABASE_URL: the production profile needs PostgreSQL")
            if self.broker_url == "embedded":
                raise ValueError("KEHU_BROKER_URL: the production profile needs a Redis broker")
            if self.webhooks_allow_loopback:
                raise ValueError("KEHU_WEBHOOKS_ALLOW_LOOPBACK: webhooks to loopback are for local development, "
                                 "not the production profile")
        return self

    @property
    def database(self) -> DatabaseURL:
        return DatabaseURL.parse(self.database_url)

    @property
    def migrate_database(self) -> DatabaseURL:
        return DatabaseURL.parse(self.migrate_database_url or self.database_url)

    @property
    def is_embedded(self) -> bool:
        return self.profile is Profile.EMBEDDED

    @property
    def effective_log_format(self) -> str:
        return self.log_format or ("console" if self.is_embedded else "json")

    @property
    def https_required(self) -> bool:
        if self.require_https is not None:
            return self.require_https
        return not self.is_embedded

    @property
    def introspection_enabled(self) -> bool:
        if self.graphql_introspection is not None:
            return self.graphql_introspection
        return self.is_embedded


def _describe(error: dict) -> str:
    location = error.get("loc") or ()
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ")
    if location:
        name = ENV_PREFIX + str(location[0]).upper()
        value = error.get("input")
        shown = f"={value!r}" if isinstance(value, (str, int)) and "secret" not in name.lower() and "KEY" not in name else ""
        return f"{name}{shown}: {message}"
    return message


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; raise ConfigurationError with one line on any bad value."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigurationError("; ".join(_describe(e) for e in exc.errors())) from None


def resolve_signing_keys(settings: Settings) -> tuple[SigningKey, ...]:
    """The configured keys, or in the embedded profile a key generated once under ``var_dir``."""
    if settings.jwt_signing_keys:
        return settings.jwt_signing_keys
    if not settings.is_embedded:
        raise ConfigurationError("KEHU_JWT_SIGNING_KEYS: the production profile needs at least one signing key")
    secret = embedded_secret(settings.var_dir / "jwt-signing-key", new_signing_secret)
    return (SigningKey(kid="embedded", secret=secret),)


def embedded_secret(path: Path, make: Callable[[], str]) -> str:
    """The secret kept in ``path`` (owner-only), made once by ``make`` on first use: the embedded
    profile's keys when none are configured. Two processes starting together keep the first one's."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this start wrote it first
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
    return path.read_text().strip()
