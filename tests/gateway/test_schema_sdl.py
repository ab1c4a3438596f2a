"""The committed SDL (schema.graphql) is the schema integrators see; it must match the code.

Regenerate after an intended change with: KEHU_UPDATE_SDL=1 make test PYTEST_ARGS=tests/gateway/test_schema_sdl.py
"""

import os
from pathlib import Path

from core.settings import load_settings
from gateway.graphql.schema import build_schema

SDL_PATH = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_committed_sdl_matches_the_schema():
    sdl = build_schema(load_settings()).as_str() + "\n"
    if os.environ.get("KEHU_UPDATE_SDL"):
        SDL_PATH.write_text(sdl)
    assert SDL_PATH.read_text() == sdl, "schema changed: regenerate schema.graphql (see this test's docstring)"
