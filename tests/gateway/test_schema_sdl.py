"""The committed SDL (schema.graphql) is the schema integrators see; it must match the code.

Regenerate after an intended change with `kehu schema > schema.graphql`, or with:
KEHU_UPDATE_SDL=1 make test PYTEST_ARGS=tests/gateway/test_schema_sdl.py
"""

import os
from pathlib import Path

from click.testing import CliRunner

from core.settings import load_settings
from gateway.cli import cli
from gateway.graphql.schema import build_schema

SDL_PATH = Path(__file__).resolve().parents[2] / "schema.graphql"


def _sdl() -> str:
    return build_schema(load_settings()).as_str() + "\n"


def test_committed_sdl_matches_the_schema():
    """Issue 17 point 9: the suite runs `kehu schema --check`, the check CI runs on its own too."""
    if os.environ.get("KEHU_UPDATE_SDL"):
        SDL_PATH.write_text(_sdl())
    result = CliRunner().invoke(cli, ["schema", "--check", "--path", str(SDL_PATH)])
    assert result.exit_code == 0, "schema changed: regenerate schema.graphql (see this test's docstring)\n" + result.output
    assert "is up to date" in result.stdout


def test_kehu_schema_prints_the_sdl():
    """Issue 17 point 9: `kehu schema` prints the SDL and nothing else on stdout."""
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    assert result.stdout == _sdl()


def test_schema_check_fails_on_a_stale_file_and_names_it(tmp_path):
    """Issue 17 point 9: a stale (or missing) schema.graphql makes `kehu schema --check` exit non-zero
    with a coded message naming the file, and a diff showing what changed."""
    stale = tmp_path / "schema.graphql"
    stale.write_text(_sdl().replace("customerCreate(", "customerMake(", 1))
    result = CliRunner().invoke(cli, ["schema", "--check", "--path", str(stale)])
    assert result.exit_code == 1
    assert "SCHEMA_STALE" in result.output and "schema.graphql is stale" in result.output
    assert "-  customerMake(" in result.output and "+  customerCreate(" in result.output
    missing = CliRunner().invoke(cli, ["schema", "--check", "--path", str(tmp_path / "none" / "schema.graphql")])
    assert missing.exit_code == 1 and "SCHEMA_STALE" in missing.output
