"""Every text and list an operation receives, checked once, before its resolver runs (issue 16 point 9).

A text may not hold control characters (NUL breaks PostgreSQL), bidirectional overrides, isolates
and marks (U+202E makes "gpj.exe" read "exe.jpg"), zero-width or other invisible characters (two
names that look alike but differ), or lone surrogates; a list may not be longer than its bound.
The check walks the converted arguments of every root field with arguments, into every input
object, list and JSON value, so a new argument is covered without anyone remembering to.

Refusals are coded like any other: a mutation answers with ``errors: [{field, code, message}]`` on
its payload, a query with a GraphQL error. ``field`` is the path as the client sent it, in the
schema's names (``contacts.0.surname``, ``address.houseNumber``); the ``input`` argument that wraps
a mutation's fields is left out, as core's own errors leave it out (``identifier.number``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.field import StrawberryField

from core.customers import validation as v
from core.errors import KehuError
from gateway.graphql.common import UserError

# Texts that may span lines (tab, line feed, carriage return allowed): free text and file contents.
# Every other text is one line; string values inside JSON may span lines, their keys may not.
MULTILINE = frozenset({"csv", "file", "reason", "note", "description", "evidence", "content", "measures", "summary",
                       "risks", "processing", "conclusion", "excludedReason", "purpose"})
# Lists longer than their bound are refused; a list not named here (JSON lists too) has the default.
LIST_BOUNDS = {"tags": v.MAX_TAGS, "phones": v.MAX_PHONES, "emails": v.MAX_EMAILS,
               "rows": 10_000}  # expected archives: the CSV alternative has no bound but the body size
DEFAULT_LIST_BOUND = 500


def _graphql_names(info: Info, value: Any) -> list[tuple[str, Any]]:
    """The fields of a Strawberry input object, by their schema names, with their values."""
    converter = info.schema.config.name_converter
    definition = type(value).__strawberry_definition__
    return [(converter.get_graphql_name(f), getattr(value, f.python_name, None)) for f in definition.fields]


def _is_input(value: Any) -> bool:
    # Enum members carry a definition too, without is_input.
    return getattr(getattr(type(value), "__strawberry_definition__", None), "is_input", False)


def check_values(info: Info, arguments: list[tuple[str, Any]]) -> None:
    """Raise KehuError for the first bad text or list among ``arguments`` (name, converted value).

    Iterative, not recursive: a JSON value nested thousands deep is walked like a flat one."""
    # (path, name of the field holding the value, value, inside a JSON value)
    pending: list[tuple[str, str, Any, bool]] = [(name, name, value, False) for name, value in reversed(arguments)]
    while pending:
        path, name, value, in_json = pending.pop()
        if isinstance(value, str):
            v.check_characters(value, path, multiline=in_json or name in MULTILINE)
        elif isinstance(value, list | tuple):
            v.check_list_size(value, path, DEFAULT_LIST_BOUND if in_json else LIST_BOUNDS.get(name, DEFAULT_LIST_BOUND))
            pending.extend((f"{path}.{i}", name, item, in_json) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, Mapping):  # a JSON value: its keys are single-line text too
            for key, item in reversed(list(value.items())):
                v.check_characters(str(key), path)  # named by where it sits: the key is the bad text
                pending.append((f"{path}.{key}", str(key), item, True))
        elif _is_input(value):
            prefix = "" if path == "input" else f"{path}."
            pending.extend((f"{prefix}{field}", field, item, in_json)
                           for field, item in reversed(_graphql_names(info, value)))


class InputChecks(FieldExtension):
    """Checks a root field's arguments before its resolver (and any other extension) runs."""

    def __init__(self, mutation: bool) -> None:
        self.mutation = mutation
        self.payload: Any = None
        self.names: dict[str, str] = {}

    def apply(self, field: StrawberryField) -> None:
        payload = field.type
        definition = getattr(payload, "__strawberry_definition__", None)
        if self.mutation and definition is not None and any(f.python_name == "errors" for f in definition.fields):
            self.payload = payload

    def _refusal(self, info: Info, kwargs: Mapping[str, Any]) -> Any:
        """None when the arguments pass; else what the field answers (a payload), or raises."""
        if not self.names:
            converter = info.schema.config.name_converter
            self.names = {a.python_name: converter.from_argument(a) for a in info._field.arguments}
        try:
            check_values(info, [(self.names.get(k, k), value) for k, value in kwargs.items()])
        except KehuError as error:
            if self.payload is None:
                raise
            ctx = getattr(info.context, "ctx", None)
            return self.payload(errors=[UserError(field=error.field, code=error.code,
                                                  message=error.message(ctx.language if ctx else "en"))])
        return None

    # Positional-only parameters: an argument may be called ``source`` (archiveExpectedImport has one).
    def resolve(self, next_: Any, source: Any, info: Info, /, **kwargs: Any) -> Any:
        refusal = self._refusal(info, kwargs)
        return refusal if refusal is not None else next_(source, info, **kwargs)

    async def resolve_async(self, next_: Any, source: Any, info: Info, /, **kwargs: Any) -> Any:
        refusal = self._refusal(info, kwargs)
        if refusal is not None:
            return refusal
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result


def check_inputs(query: type, mutation: type) -> None:
    """Put InputChecks on every root field that takes arguments (once: the roots are module-level
    classes, and a schema may be built several times in one process)."""
    for root, is_mutation in ((query, False), (mutation, True)):
        for field in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            if field.arguments and not any(isinstance(e, InputChecks) for e in field.extensions):
                field.extensions.append(InputChecks(is_mutation))
