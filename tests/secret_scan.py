"""Whole-run secret scan (issue 16 point 4): no log line of the test run may hold a secret the run made.

A pytest plugin, loaded by tests/conftest.py:

1. it collects every secret the run creates, by wrapping the functions that make them: passwords
   set (``PasswordHashing.hash``), JWTs (``jwt.encode``: access tokens, signed links), refresh
   tokens and API keys (``new_opaque_token``), webhook signing secrets, JWT and audit anchor signing keys and data
   keys as resolved from settings, database URL passwords, export file keys and export links;
2. it writes every log line of the run to a temporary file, rendered as kehu's own handler renders
   it (so after redaction), plus the stderr of subprocesses and of ``kehu`` commands run by tests;
3. at the end it searches that file for every secret and fails the run (exit status 1) naming the
   kind of secret, the logger and the first test, never the secret itself.
"""

from __future__ import annotations

import base64
import functools
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit
from uuid import UUID

import pytest

MIN_SECRET_LENGTH = 8  # shorter strings would match ordinary words; kehu's secrets are far longer
MAX_SECRETS = 200_000  # cap memory; a run makes a few thousand
MAX_LOG_BYTES = 512 * 1024 * 1024
_SEP = "\x1f"  # between logger, test and the line in the capture file


# --- the secrets ------------------------------------------------------------------------------------

class Secrets:
    """Secret text -> its kind ("password", "JWT", ...)."""

    def __init__(self) -> None:
        self.kinds: dict[str, str] = {}
        self.dropped = 0

    def add(self, kind: str, value: object) -> None:
        if isinstance(value, bytes):
            for encode in (base64.urlsafe_b64encode, base64.b64encode):
                self.add(kind, encode(value).decode().rstrip("="))
            return
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH or value in self.kinds:
            return
        if len(self.kinds) >= MAX_SECRETS:
            self.dropped += 1
            return
        self.kinds[value] = kind


SECRETS = Secrets()


def _opaque_kind(token: str) -> str:
    return {"kk": "API key", "rt": "refresh token"}.get(token.split("_", 1)[0], "opaque token")


def _replace_everywhere(module: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Wrap ``module.name``, and every already imported module's reference to the same function
    (``from x import f`` copies the reference); later imports get the wrapped one."""
    original = getattr(module, name, None)
    if original is None or getattr(original, "__secret_scan__", False):
        return
    wrapped = make(original)
    wrapped.__secret_scan__ = True
    for loaded in list(sys.modules.values()):
        namespace = getattr(loaded, "__dict__", None)
        if isinstance(namespace, dict) and namespace.get(name) is original:
            setattr(loaded, name, wrapped)


def _recording(kind: Callable[[Any], str] | str, pick: Callable[[Any, tuple, dict], Iterable[Any]]):
    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            for value in pick(result, args, kwargs):
                SECRETS.add(kind(value) if callable(kind) else kind, value)
            return result
        return wrapper
    return make


def _link_secrets(url: str) -> Iterator[str]:
    """A download link's credential: its path segments and query values (whatever its design)."""
    parts = urlsplit(url)
    yield from (unquote(segment) for segment in parts.path.split("/"))
    yield from (value for _, value in parse_qsl(parts.query))


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def install_secret_hooks() -> None:
    import jwt

    import core.audit.anchors as anchors
    import core.customers.exporting as exporting
    import core.identity.passwords as passwords
    import core.identity.tokens as tokens
    import core.privacy.crypto as crypto
    import core.settings as settings
    import core.webhooks.service as webhooks
    import gateway.app  # noqa: F401 - loads every module that imports the functions wrapped below

    if not getattr(passwords.PasswordHashing.hash, "__secret_scan__", False):
        hash_password = passwords.PasswordHashing.hash

        async def hash_recording(self: Any, password: str) -> str:
            SECRETS.add("password", password)
            return await hash_password(self, password)

        hash_recording.__secret_scan__ = True  # type: ignore[attr-defined]
        passwords.PasswordHashing.hash = hash_recording  # type: ignore[method-assign]

    _replace_everywhere(jwt, "encode", _recording("JWT", lambda result, a, k: [result]))
    _replace_everywhere(tokens, "new_opaque_token", _recording(_opaque_kind, lambda result, a, k: [result]))
    _replace_everywhere(webhooks, "new_secret", _recording("webhook signing secret", lambda result, a, k: [result]))
    _replace_everywhere(settings, "resolve_signing_keys", _recording(
        "JWT signing key", lambda result, a, k: [key.secret for key in result]))
    _replace_everywhere(crypto, "keyring_from", _recording(
        "data key", lambda result, a, k: [secret for _, secret in (a[0] if a else k["pairs"])]))
    _replace_everywhere(crypto, "new_data_key", _recording("data key", lambda result, a, k: [result]))
    _replace_everywhere(anchors, "_seed_key", _recording(
        "audit anchor signing key", lambda result, a, k: [str(a[0] if a else k["seed_text"]).strip()]))
    _replace_everywhere(exporting, "_file_key", _recording("export file key", lambda result, a, k: [result]))

    export_link = getattr(exporting, "export_link", None)
    if export_link is not None and not getattr(export_link, "__secret_scan__", False):
        async def link_recording(*args: Any, **kwargs: Any) -> Any:
            link = await export_link(*args, **kwargs)
            for value in _link_secrets(str(getattr(link, "url", link))):
                if len(value) >= 20 and not _is_uuid(value):  # the token, not "exports" or a job id
                    SECRETS.add("export link", value)
            return link

        _replace_everywhere(exporting, "export_link", lambda _: functools.wraps(export_link)(link_recording))

    parse_url = settings.DatabaseURL.parse.__func__  # type: ignore[attr-defined]
    if not getattr(parse_url, "__secret_scan__", False):
        def parse_recording(cls: Any, raw: str) -> Any:
            password = urlsplit(raw).password if "://" in raw else None
            if password:
                SECRETS.add("database password", password)
                SECRETS.add("database password", unquote(password))
            return parse_url(cls, raw)

        parse_recording.__secret_scan__ = True  # type: ignore[attr-defined]
        settings.DatabaseURL.parse = classmethod(parse_recording)  # type: ignore[method-assign, assignment]


# --- the log lines ----------------------------------------------------------------------------------

class LogCapture:
    """Every log line of the run, in one temporary file: ``logger SEP test SEP line``."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "log-lines"
        self._file = open(self.path, "w", encoding="utf-8", errors="replace")  # noqa: SIM115
        self.written = 0
        self.capped = False
        self.test = "(outside tests)"

    def write(self, logger: str, text: str) -> None:
        if self.capped:
            return
        for line in text.splitlines():
            entry = f"{logger}{_SEP}{self.test}{_SEP}{line}\n"
            self.written += len(entry)
            if self.written > MAX_LOG_BYTES:
                self.capped = True
                return
            self._file.write(entry)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


class ScanHandler(logging.Handler):
    """On the root logger: renders each record as kehu's handler would (redaction included)."""

    def __init__(self, capture: LogCapture) -> None:
        super().__init__(logging.NOTSET)
        self.capture = capture
        self.set_name("kehu-secret-scan")
        self._fallback: logging.Handler | None = None

    def _renderer(self) -> logging.Handler:
        from core.logging import RedactingFilter, formatter, kehu_handler

        handler = kehu_handler()
        if handler is None:  # logging not configured yet: render as production would (JSON)
            if self._fallback is None:
                self._fallback = logging.NullHandler()
                self._fallback.setFormatter(formatter("json"))
                self._fallback.addFilter(RedactingFilter())
            handler = self._fallback
        return handler

    def emit(self, record: logging.LogRecord) -> None:
        try:
            handler = self._renderer()
            copy = logging.makeLogRecord(record.__dict__)
            if handler.filter(copy):
                self.capture.write(record.name, handler.format(copy))
        except Exception:  # never break a test because of the scan's own rendering
            self.capture.write(record.name, f"{record.getMessage()}")


# --- the search -------------------------------------------------------------------------------------

@dataclass
class Finding:
    kind: str
    logger: str
    test: str
    lines: int = 1

    def describe(self) -> str:
        return (f"a {self.kind} created during the run appears in {self.lines} log line(s) of logger "
                f"{self.logger!r} (first during {self.test})")


def _index(secrets: Iterable[str], k: int) -> dict[str, list[str]]:
    """Every k-gram of every secret: a secret of length >= 2k-1 inside a line covers a k-gram that
    starts at a multiple of k, so the search only looks at every k-th position."""
    index: dict[str, list[str]] = {}
    for secret in secrets:
        for i in range(len(secret) - k + 1):
            bucket = index.setdefault(secret[i:i + k], [])
            if not bucket or bucket[-1] is not secret:
                bucket.append(secret)
    return index


def find_secrets(entries: Iterable[tuple[str, str, str]], secrets: dict[str, str]) -> list[Finding]:
    """Findings per (kind, logger) for ``(logger, test, line)`` entries holding any of ``secrets``."""
    indexes = [(4, _index((s for s in secrets if len(s) < 15), 4)), (8, _index((s for s in secrets if len(s) >= 15), 8))]
    findings: dict[tuple[str, str], Finding] = {}
    for logger, test, line in entries:
        candidates: set[str] = set()
        for k, index in indexes:
            if not index:
                continue
            for position in range(0, len(line) - k + 1, k):
                bucket = index.get(line[position:position + k])
                if bucket:
                    candidates.update(bucket)
        for kind in {secrets[s] for s in candidates if s in line}:
            finding = findings.get((kind, logger))
            if finding is None:
                findings[(kind, logger)] = Finding(kind, logger, test)
            else:
                finding.lines += 1
    return list(findings.values())


def read_entries(path: Path) -> Iterator[tuple[str, str, str]]:
    with open(path, encoding="utf-8", errors="replace") as lines:
        for entry in lines:
            logger, _, rest = entry.rstrip("\n").partition(_SEP)
            test, _, line = rest.partition(_SEP)
            yield logger, test, line


# --- the plugin -------------------------------------------------------------------------------------

_state: dict[str, Any] = {}


def _capture_outputs(capture: LogCapture) -> None:
    """Subprocesses' stderr (a `kehu serve` a test starts) and `kehu` commands' stderr hold log lines too."""
    if getattr(subprocess.Popen.communicate, "__secret_scan__", False):
        return
    communicate = subprocess.Popen.communicate

    def communicate_recording(self: subprocess.Popen, *args: Any, **kwargs: Any) -> Any:
        stdout, stderr = communicate(self, *args, **kwargs)
        if stderr:
            name = " ".join(str(a) for a in (self.args if isinstance(self.args, list) else [self.args])[:4])
            capture.write(f"subprocess {name}", stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr)
        return stdout, stderr

    communicate_recording.__secret_scan__ = True  # type: ignore[attr-defined]
    subprocess.Popen.communicate = communicate_recording  # type: ignore[method-assign]

    from click.testing import CliRunner

    invoke = CliRunner.invoke

    def invoke_recording(self: CliRunner, cli: Any, args: Any = None, *rest: Any, **kwargs: Any) -> Any:
        result = invoke(self, cli, args, *rest, **kwargs)
        try:
            stderr = result.stderr
        except ValueError:
            stderr = ""
        if stderr:
            command = " ".join(args) if isinstance(args, (list, tuple)) else str(args or "")
            capture.write(f"kehu {command}".strip(), stderr)
        return result

    CliRunner.invoke = invoke_recording  # type: ignore[method-assign]


def _is_xdist_controller(config: pytest.Config) -> bool:
    """Under pytest-xdist the controller runs no test: its workers scan their own log lines and
    send it what they found (``workeroutput``)."""
    return bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workerinput")


class _WorkerFindings:
    """On the xdist controller: the findings each worker reports as it goes down."""

    @pytest.hookimpl
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        found = getattr(node, "workeroutput", {}).get("secret_scan") or {}
        _state["findings"].extend(found.get("findings", ()))
        _state["capped"] = _state.get("capped") or found.get("capped", False)
        _state["dropped"] = _state.get("dropped", 0) + found.get("dropped", 0)


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--no-secret-scan", default=False):
        return
    if _is_xdist_controller(config):
        _state.update(findings=[], controller=True)
        config.pluginmanager.register(_WorkerFindings(), "kehu-secret-scan-findings")
        return
    directory = Path(tempfile.mkdtemp(prefix="kehu-secret-scan-"))
    capture = LogCapture(directory)
    install_secret_hooks()
    _capture_outputs(capture)
    handler = ScanHandler(capture)
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO:  # as `kehu serve` logs by default
        root.setLevel(logging.INFO)
    _state.update(directory=directory, capture=capture, handler=handler, findings=[])


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-secret-scan", action="store_true", default=False,
                     help="Do not scan the run's log lines for the secrets it created.")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    capture = _state.get("capture")
    if capture is not None:
        capture.test = item.nodeid
    yield
    if capture is not None:
        capture.test = "(between tests)"


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _state.get("controller"):
        _fail_on_findings(session)
        return
    capture: LogCapture | None = _state.get("capture")
    if capture is None:
        return
    logging.getLogger().removeHandler(_state["handler"])
    capture.close()
    try:
        findings = find_secrets(read_entries(capture.path), SECRETS.kinds)
    finally:
        shutil.rmtree(_state["directory"], ignore_errors=True)  # it may hold the very secrets found
    described = [finding.describe() for finding in findings]  # the kind and logger, never the secret
    _state.update(findings=described, capture=None, capped=capture.capped, dropped=SECRETS.dropped)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller reports and fails the run
        workeroutput["secret_scan"] = {"findings": described, "capped": capture.capped, "dropped": SECRETS.dropped}
    _fail_on_findings(session)


def _fail_on_findings(session: pytest.Session) -> None:
    if _state.get("findings") and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    findings: list[str] = _state.get("findings") or []
    for finding in findings:
        terminalreporter.write_line(f"SECRET IN LOGS: {finding}", red=True, bold=True)
    if findings:
        terminalreporter.write_line("secret scan: the run fails because log lines hold credentials; redact them "
                                    "where they are logged, or their shape in core/logging.py", red=True)
    if _state.get("capped"):
        terminalreporter.write_line(f"secret scan: only the first {MAX_LOG_BYTES // 2**20} MiB of log lines were scanned")
    if _state.get("dropped"):
        terminalreporter.write_line(f"secret scan: {_state['dropped']} secret(s) not tracked (cap {MAX_SECRETS})")
