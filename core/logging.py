"""Structured logs: JSON lines in production, readable lines when embedded.

Every record carries the request id bound for the current request (``structlog.contextvars``),
and stdlib loggers (uvicorn, piccolo, dramatiq) go through the same formatter.

No credential may reach a log line: every record, ours or a library's, passes through
``redact`` before it is rendered (URL passwords, ``password=``/``token=``/``key=`` values,
Authorization/Cookie/X-Api-Key headers, JWTs, kehu's opaque tokens, ``/exports/<token>``),
and exceptions are rendered as plain tracebacks, never with local variables.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Callable
from typing import Any

import structlog

from core.settings import Settings

REDACTED = "[REDACTED]"

# Names whose value is a credential, as a dict key, a keyword argument or a ``name=value`` pair:
# the name itself, or any name ending in "_<name>" / "-<name>" (new_password, x-api-key, data_key).
# "password" etc. may end any name (sslpassword); short words only after a separator (not "monkey").
_SECRET_WORDS = (r"[\w-]*(?:password|passwd|secret|token|apikey|totp_?code|recovery_?codes?|challenge_?answer)|"
                 r"(?:[\w-]*[_-])?(?:pwd|api_key|key|keys|seed|signature|sig|authorization|cookie|credentials?|dsn)")
_SECRET_NAME = re.compile(rf"^(?:{_SECRET_WORDS})$", re.IGNORECASE)

_TEXT_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # scheme://user:password@host -> scheme://user:[REDACTED]@host (database, broker, webhook URLs)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^\s:/@'\"]*):[^\s@/'\"]+@"), rf"\1:{REDACTED}@"),
    # Authorization / X-Api-Key headers, as text, dict repr or ASGI header tuple (b'authorization', b'…')
    (re.compile(r"(?i)\b((?:proxy-)?authorization|x-api-key)(['\"]?\s*[:=,]\s*b?['\"]?)"
                r"(?:(bearer|basic|token|digest)\s+)?[^\s'\",;]+"),
     lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) + ' ' if m.group(3) else ''}{REDACTED}"),
    (re.compile(r"(?i)\b((?:set-)?cookie)(['\"]?\s*[:=,]\s*b?['\"]?)[^'\"\r\n]+"), rf"\1\2{REDACTED}"),
    # "Bearer <credential>" wherever it appears
    (re.compile(r"(?i)\b(bearer|basic)\s+(?!\[REDACTED)[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # name=value pairs: query strings, libpq DSNs, console-rendered key=value
    (re.compile(rf"(?i)(^|[\s?&;,(\[{{\"'])((?:{_SECRET_WORDS})\s*=\s*)(?!\[REDACTED)[^&\s;,\"'#)\]}}]+"),
     rf"\1\2{REDACTED}"),
    # 'password': 'x' and "token": "x" inside a dict's repr or JSON text
    (re.compile(rf"(?i)(['\"])({_SECRET_WORDS})\1(\s*:\s*)(['\"])(?:\\.|(?!\4).)*\4"),
     rf"\1\2\1\3\4{REDACTED}\4"),
    # JWTs (access tokens, signed links): base64url header always starts with '{"' = eyJ
    (re.compile(r"\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"), f"{REDACTED}-JWT"),
    # kehu's opaque tokens prefix_<tenant hex>_<secret> (API keys kk_, refresh tokens rt_)
    (re.compile(r"\b([A-Za-z]{1,8})_([0-9a-f]{32})_[A-Za-z0-9_-]{16,}"), rf"\1_\2_{REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9_-]{8,}"), f"whsec_{REDACTED}"),
    # a download link's path segment is its credential
    (re.compile(r"(/exports/)(?!\[REDACTED)[^/\s?#'\"]+"), rf"\1{REDACTED}"),
)


def redact_text(text: str) -> str:
    """``text`` with every credential shape kehu knows replaced by ``[REDACTED]``."""
    for pattern, replacement in _TEXT_RULES:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth > 8:  # a pathological structure is cut, not walked
        return REDACTED
    if isinstance(value, dict):
        return {key: (REDACTED if value[key] is not None and isinstance(key, str) and _SECRET_NAME.match(key)
                      else _redact_value(value[key], depth + 1)) for key in value}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_redact_value(item, depth + 1) for item in value]
    # Anything else is rendered through its text, so scrub that text (exceptions keep their class).
    return redact_text(repr(value) if isinstance(value, BaseException) else str(value))


_KEEP = ("_record", "_from_structlog", "exc_info")


def redact(_: Any, __: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: redact every credential in the event before it is rendered."""
    for key, value in list(event_dict.items()):
        if key in _KEEP:
            continue
        if value is not None and _SECRET_NAME.match(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact_value(value)
    return event_dict


def plain_exception(exc_info: Any) -> str:
    """A traceback without local variables (rich's and better-exceptions' would print them)."""
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


# format_exc_info with our plain, locals-free rendering, for structlog and foreign records alike.
_format_exceptions = structlog.processors.ExceptionRenderer(
    lambda exc_info: plain_exception(exc_info))  # type: ignore[arg-type]


class RedactingFilter(logging.Filter):
    """stdlib filter: scrub a library's record (message, arguments, traceback) in place, so every
    handler that sees it after this one (and ours) gets the redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):  # a structlog event: the ``redact`` processor handles it
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's broken format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact_text(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = redact_text(plain_exception(record.exc_info))
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now (a CLI test runner or pytest may swap it)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


_SHARED_PROCESSORS: list = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


_HANDLER_NAME = "kehu"


def formatter(log_format: str) -> logging.Formatter:
    """The formatter of kehu's handler: redaction, then JSON or console rendering."""
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if log_format == "json"
        # Plain tracebacks: rich's would print local variables, passwords among them.
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, _format_exceptions, redact, renderer],
    )


def kehu_handler() -> logging.Handler | None:
    """kehu's own handler on the root logger, once logging is configured."""
    return next((h for h in logging.getLogger().handlers if h.get_name() == _HANDLER_NAME), None)


def configure_logging(settings: Settings) -> None:
    configure_logging_as(settings.log_level, settings.effective_log_format)


def configure_logging_as(level: str, log_format: str) -> None:
    structlog.configure(
        processors=[
            *_SHARED_PROCESSORS,
            _format_exceptions if log_format == "json" else structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(formatter(log_format))
    handler.addFilter(RedactingFilter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler, so a host's handlers (pytest's log capture) stay attached.
    root.handlers = [h for h in root.handlers if h.get_name() != _HANDLER_NAME] + [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
