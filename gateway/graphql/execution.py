"""Execution tuned for large pages.

graphql-core executes every field the same way: a path object, a resolve-info object, the
resolver, then value completion that dispatches on the field's type. On a 100-customer page with
owners and contacts that is ~1,700 fields, and most of them are plain attributes holding a
scalar (a name, a status, a list of phones). For those fields — Strawberry's default resolver
(no resolver of its own, no permission classes, no extensions), no arguments, a scalar, enum or
list-of-scalars type — this context reads the attribute and coerces the value directly. Any
field that does not fit, or a value that would need an error (a null in a non-null field, a
value the scalar refuses), goes through graphql-core's own path, so errors and their paths stay
exactly as graphql-core reports them.
"""

from __future__ import annotations

import operator
from typing import Any

from graphql import GraphQLField, GraphQLList, GraphQLNonNull, GraphQLObjectType, is_leaf_type
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_UNUSED_INFO = None
_SLOW = object()  # the field needs graphql-core's full execution


def _leaf(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return is_leaf_type(type_)


def _is_basic(field_def: GraphQLField) -> bool:
    # Strawberry names the resolver of a plain attribute field _get_basic_result; it calls
    # get_result without info.
    return getattr(field_def.resolve, "__name__", "") == "_get_basic_result"


def _reader(field_def: GraphQLField) -> Any:
    """The field's value from its source: Strawberry's basic resolver calls the field's default
    resolver (getattr) with its Python name; reading the attribute directly skips two calls."""
    field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if (field is not None and getattr(field, "base_resolver", True) is None
            and getattr(field, "default_resolver", None) is getattr):
        return operator.attrgetter(field.python_name)
    return lambda source: field_def.resolve(source, _UNUSED_INFO)


class _Plain:
    """How to read and coerce one plain leaf field without graphql-core's machinery."""

    __slots__ = ("resolve", "non_null", "is_list", "item_non_null", "coerce")

    def __init__(self, field_def: GraphQLField) -> None:
        type_ = field_def.type
        self.resolve = _reader(field_def)
        self.non_null = isinstance(type_, GraphQLNonNull)
        type_ = type_.of_type if self.non_null else type_
        self.is_list = isinstance(type_, GraphQLList)
        if self.is_list:
            type_ = type_.of_type
            self.item_non_null = isinstance(type_, GraphQLNonNull)
            type_ = type_.of_type if self.item_non_null else type_
        else:
            self.item_non_null = False
        self.coerce = type_.coerce_output_value if hasattr(type_, "coerce_output_value") else type_.serialize

    def value(self, source: Any) -> Any:
        """The completed value, or _SLOW when graphql-core must handle it (errors included)."""
        try:
            result = self.resolve(source)
        except Exception:  # noqa: BLE001 - graphql-core reports it with the field's path
            return _SLOW
        if result is None:
            return _SLOW if self.non_null else None
        if not self.is_list:
            return self._coerced(result)
        if isinstance(result, str | bytes) or not isinstance(result, list | tuple):
            return _SLOW
        completed = []
        for item in result:
            if item is None:
                if self.item_non_null:
                    return _SLOW
                completed.append(None)
                continue
            value = self._coerced(item)
            if value is _SLOW:
                return _SLOW
            completed.append(value)
        return completed

    def _coerced(self, result: Any) -> Any:
        try:
            value = self.coerce(result)
        except Exception:  # noqa: BLE001 - graphql-core turns it into the field's error
            return _SLOW
        return _SLOW if value is None or value is Undefined else value


class PageExecutionContext(StrawberryGraphQLCoreExecutionContext):
    # id of a schema field -> its plain reader, or None (fields live as long as the schema)
    _plain: dict[int, _Plain | None] = {}

    def _plain_reader(self, field_def: GraphQLField) -> _Plain | None:
        key = id(field_def)
        try:
            return self._plain[key]
        except KeyError:
            reader = _Plain(field_def) if (_is_basic(field_def) and _leaf(field_def.type)
                                           and not field_def.args) else None
            self._plain[key] = reader
            return reader

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: Any, position_context: Any) -> Any:
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        fields = parent_type.fields
        is_awaitable = self.is_awaitable
        try:
            for response_name, field_details_list in grouped_field_set.items():
                node = field_details_list[0].node
                field_def = fields.get(node.name.value)
                reader = self._plain_reader(field_def) if field_def is not None and not node.arguments else None
                if reader is not None:
                    value = reader.value(source_value)
                    if value is not _SLOW:
                        results[response_name] = value
                        continue
                result = self.execute_field(parent_type, source_value, field_details_list,
                                            Path(path, response_name, parent_type.name), position_context)
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
            results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()
