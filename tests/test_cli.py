"""The kehu command: help everywhere, tenants, one-line errors, and `kehu demo` end to end."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest
from click.testing import CliRunner

from gateway.cli import cli

COMMANDS = [["serve"], ["migrate"], ["tenants"], ["tenants", "create"], ["tenants", "list"], ["plugins"], ["demo"],
            ["audit"], ["audit", "verify"], ["audit", "anchor"], ["audit", "prune"], ["worker"], ["scheduler"],
            ["jobs"], ["jobs", "dead"], ["jobs", "replay"], ["customers"], ["customers", "import"],
            ["privacy"], ["privacy", "rekey"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: kehu" in result.output and len(result.output.splitlines()) > 3


def test_tenants_create_and_list(sqlite_settings):
    env = {"KEHU_DATABASE_URL": sqlite_settings.database_url}
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"], env=env).exit_code == 0
    created = runner.invoke(cli, ["tenants", "create", "acme-motors", "艾克米汽车"], env=env)
    assert created.exit_code == 0 and "created tenant acme-motors" in created.output
    listed = json.loads(runner.invoke(cli, ["tenants", "list", "--json"], env=env).output)
    assert [(t["slug"], t["name"]) for t in listed] == [("acme-motors", "艾克米汽车")]


@pytest.mark.parametrize("args, expected", [
    (["tenants", "create", "Bad Slug", "X"], "TENANT_SLUG_INVALID"),
    (["tenants", "create", "dup", "X"], "TENANT_SLUG_TAKEN"),
])
def test_tenant_errors_exit_non_zero_with_one_line(sqlite_settings, args, expected):
    env = {"KEHU_DATABASE_URL": sqlite_settings.database_url}
    runner = CliRunner()
    runner.invoke(cli, ["migrate"], env=env)
    runner.invoke(cli, ["tenants", "create", "dup", "X"], env=env)
    result = runner.invoke(cli, args, env=env)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and expected in result.output


def test_unreachable_database_is_one_line():
    result = CliRunner().invoke(cli, ["migrate"], env={"KEHU_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "Error:" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_kehu_demo_serves_graphiql_then_stops_cleanly_on_sigterm(tmp_path):
    """The README's first command, on a fresh directory with default settings."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEHU_")}
    env["KEHU_LOG_FORMAT"] = "json"
    process = subprocess.Popen([sys.executable, "-m", "gateway.cli", "demo", "--port", str(port)], cwd=tmp_path,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "kehu demo did not come up within 60 s"
            time.sleep(0.2)
        answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}).json()
        assert answer == {"data": {"__typename": "Query"}}
        assert "graphiql" in httpx.get(f"{base}/graphql", headers={"accept": "text/html"}).text.lower()
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    # uvicorn finishes in-flight work, runs the shutdown, then re-raises SIGTERM as its exit status.
    assert process.returncode in (0, -signal.SIGTERM), stderr
    assert '"event": "Application shutdown complete."' in stderr
    assert f"GraphiQL:      {base}/graphql" in stdout
    assert "demo-automotive" in stdout and "demo-tobacco" in stdout
    assert (tmp_path / "var" / "kehu.sqlite3").exists()
    assert '"event": "kehu.stopped"' in stderr  # the lifespan ran its shutdown: pool closed, logs flushed


def test_kehu_audit_verify_reports_intact_and_broken_chains(sqlite_settings):
    import sqlite3

    env = {"KEHU_DATABASE_URL": sqlite_settings.database_url}
    runner = CliRunner()
    runner.invoke(cli, ["migrate"], env=env)
    assert runner.invoke(cli, ["tenants", "create", "acme", "Acme"], env=env).exit_code == 0
    intact = runner.invoke(cli, ["audit", "verify"], env=env)
    assert intact.exit_code == 0 and "acme: ok" in intact.output
    assert runner.invoke(cli, ["audit", "anchor"], env=env).exit_code == 0
    with sqlite3.connect(sqlite_settings.database.sqlite_path) as connection:
        connection.execute("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 2")
    broken = runner.invoke(cli, ["audit", "verify", "--tenant", "acme"], env=env)
    assert broken.exit_code == 1 and "BROKEN at position 2 (modified)" in broken.output
    unknown = runner.invoke(cli, ["audit", "verify", "--tenant", "nope"], env=env)
    assert unknown.exit_code == 1 and "NOT_FOUND" in unknown.output
