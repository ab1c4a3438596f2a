import pytest
from click.testing import CliRunner

from core.errors import ConfigurationError
from core.settings import Profile, load_settings, resolve_signing_keys
from gateway.cli import cli

from core.settings import new_signing_secret

GOOD_KEY = "k1:" + new_signing_secret()


def test_defaults_run_the_embedded_profile():
    settings = load_settings()
    assert settings.profile is Profile.EMBEDDED
    assert settings.database.is_sqlite
    assert str(settings.database.sqlite_path) == "var/kehu.sqlite3"
    assert settings.broker_url == "embedded"
    assert settings.workers == 1


def test_values_come_from_kehu_environment_variables(monkeypatch):
    monkeypatch.setenv("KEHU_PORT", "9001")
    monkeypatch.setenv("KEHU_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("KEHU_DISABLED_PLUGINS", "tobacco,real_estate")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.disabled_plugins == ("tobacco", "real_estate")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"database_url": "mysql://localhost/db"}, "KEHU_DATABASE_URL='mysql://localhost/db': unparseable URL"),
        ({"database_url": "postgresql://host:notaport/db"}, "KEHU_DATABASE_URL"),
        ({"database_url": "not a url"}, "KEHU_DATABASE_URL"),
        ({"broker_url": "amqp://x"}, "KEHU_BROKER_URL"),
        ({"workers": 2}, "KEHU_WORKERS: SQLite allows only one API process"),
        ({"profile": "production", "database_url": "postgresql://app@db/kehu", "broker_url": "redis://r:6379/0"},
         "KEHU_JWT_SIGNING_KEYS: the production profile needs at least one signing key"),
        ({"profile": "production", "jwt_signing_keys": GOOD_KEY, "broker_url": "redis://r:6379/0"},
         "KEHU_DATABASE_URL: the production profile needs PostgreSQL"),
        ({"jwt_signing_keys": "k1:short"}, "KEHU_JWT_SIGNING_KEYS: key 'k1' is not a base64url Ed25519 seed"),
        ({"password_hashing": "md5"}, "KEHU_PASSWORD_HASHING"),
        ({"port": 0}, "KEHU_PORT"),
        ({"profile": "staging"}, "KEHU_PROFILE"),
    ],
)
def test_each_bad_setting_stops_with_one_clear_line(overrides, expected):
    with pytest.raises(ConfigurationError) as caught:
        load_settings(**overrides)
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_production_profile_with_everything_set_is_accepted():
    settings = load_settings(profile="production", database_url="postgresql://app@db:5432/kehu",
                             broker_url="redis://r:6379/0", jwt_signing_keys=GOOD_KEY, workers=4)
    assert settings.jwt_signing_keys[0].kid == "k1"
    assert not settings.introspection_enabled


def test_signing_key_secret_never_appears_in_errors():
    with pytest.raises(ConfigurationError) as caught:
        load_settings(jwt_signing_keys="k1:tooshortsecret")
    assert "tooshortsecret" not in str(caught.value)


def test_embedded_profile_generates_and_keeps_a_signing_key(tmp_path):
    settings = load_settings(var_dir=tmp_path)
    first = resolve_signing_keys(settings)
    second = resolve_signing_keys(settings)
    assert first == second and len(first[0].seed) == 32
    assert (tmp_path / "jwt-signing-key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"KEHU_DATABASE_URL": "::nonsense::"}, "KEHU_DATABASE_URL"),
        ({"KEHU_WORKERS": "2"}, "SQLite allows only one API process"),
        ({"KEHU_PROFILE": "production", "KEHU_DATABASE_URL": "postgresql://a@h/db",
          "KEHU_BROKER_URL": "redis://h:6379/0"}, "KEHU_JWT_SIGNING_KEYS"),
    ],
)
def test_kehu_serve_refuses_bad_settings_with_one_line(env, expected):
    result = CliRunner().invoke(cli, ["serve"], env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert expected in lines[0]


def test_password_hash_concurrency_defaults_to_four_or_the_cores_when_fewer(monkeypatch):
    """P4 (issue 27): no more hashing threads than cores by default (more only time-slice argon2),
    never more than four (19 MiB each); the setting still overrides it."""
    import os

    for cores, expected in ((1, 1), (2, 2), (3, 3), (16, 4)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, cores=cores: set(range(cores)))
        assert load_settings().password_hash_concurrency == expected
    monkeypatch.setenv("KEHU_PASSWORD_HASH_CONCURRENCY", "8")
    assert load_settings().password_hash_concurrency == 8
