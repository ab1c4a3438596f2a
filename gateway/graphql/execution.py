"""Execution tuned for large pages.

graphql-core executes every field the same way: a path object, a resolve-info object, the
resolver, then value completion that dispatches on the field's type. On a 100-customer page with
owners and contacts that is ~1,700 fields, and most of them are plain attributes holding a
scalar (a name, a status, a list of phones). For those fields — Strawberry's default resolver
(no resolver of its own, no permission classes, no extensions), no arguments, a scalar, enum or
list-of-scalars type — this context reads the attribute and coerces the value directly. A plain
attribute holding an object or a list of objects (a page's edges, a customer's owner and
contacts) is read the same way and its sub-selection executed at once, without a resolve-info
object and graphql-core's completion dispatch per object; a field error inside it is handled as
graphql-core handles it (null at the nearest nullable field, the error located at its path). Any
field that does not fit, or a value that would need an error (a null in a non-null field, a
value the scalar refuses, an object of the wrong type), goes through graphql-core's own path, so
errors and their paths stay exactly as graphql-core reports them.
"""

from __future__ import annotations

import operator
import weakref
from typing import Any

from collections.abc import Awaitable, Mapping

from graphql import (GraphQLField, GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType,
                     GraphQLResolveInfoHelpers, is_leaf_type, specified_scalar_types)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_UNUSED_INFO = None
_SLOW = object()  # the field needs graphql-core's full execution
_PASSED_THROUGH = {"String": str, "ID": str, "Boolean": bool}


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

    __slots__ = ("resolve", "non_null", "is_list", "item_non_null", "coerce", "exact")
    leaf = True

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
        # The Python type the scalar passes through unchanged (String and ID: str; Boolean: bool):
        # such a value needs no call. Int checks its range and Float its finiteness, so they do.
        self.exact = _PASSED_THROUGH.get(type_.name) if specified_scalar_types.get(type_.name) is type_ else None

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
        if type(result) is self.exact:
            return result
        try:
            value = self.coerce(result)
        except Exception:  # noqa: BLE001 - graphql-core turns it into the field's error
            return _SLOW
        return _SLOW if value is None or value is Undefined else value


def _object_type(type_: Any) -> GraphQLObjectType | None:
    """The object type of a field typed as an object or a list of objects (not a list of lists)."""
    type_ = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    type_ = type_.of_type if isinstance(type_, GraphQLList) else type_
    type_ = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    return type_ if isinstance(type_, GraphQLObjectType) else None


def _strawberry_is_type_of(object_type: GraphQLObjectType) -> bool:
    # Strawberry's own check (an isinstance against the type and its interfaces) reads no resolve
    # info; a hand-written one might, and then the field takes graphql-core's path.
    check = object_type.is_type_of
    return check is None or check.__qualname__.endswith("_get_is_type_of.<locals>.is_type_of")


class _PlainObject:
    """How to read one plain object (or list of objects) field; its sub-selection runs at once."""

    __slots__ = ("resolve", "non_null", "is_list", "item_non_null", "object_type", "item_type")
    leaf = False

    def __init__(self, field_def: GraphQLField, object_type: GraphQLObjectType) -> None:
        type_ = field_def.type
        self.resolve = _reader(field_def)
        self.object_type = object_type
        self.non_null = isinstance(type_, GraphQLNonNull)
        type_ = type_.of_type if self.non_null else type_
        self.is_list = isinstance(type_, GraphQLList)
        self.item_type: GraphQLOutputType = type_.of_type if self.is_list else type_
        self.item_non_null = self.is_list and isinstance(self.item_type, GraphQLNonNull)


def _plain_reader_of(field_def: GraphQLField) -> _Plain | _PlainObject | None:
    if not _is_basic(field_def) or field_def.args:
        return None
    if _leaf(field_def.type):
        return _Plain(field_def)
    object_type = _object_type(field_def.type)
    if object_type is not None and _strawberry_is_type_of(object_type):
        return _PlainObject(field_def, object_type)
    return None


_READER = "_kehu_plain_reader"  # the attribute a field keeps its plain reader (or None) in


def _gather(values: Any) -> Any:
    return gather_with_cancel(*values)


def _helpers_without_a_cycle(context: StrawberryGraphQLCoreExecutionContext) -> GraphQLResolveInfoHelpers:
    """The resolvers' async helpers of ``context``, holding it weakly. graphql-core keeps two bound
    methods of the context on the context, a reference cycle: every request's context, with the
    GraphQL context, request and response it holds, waited for the cycle collector (about a
    hundred objects a request, ~25 µs of collections a request on a ``{ __typename }``; P1).
    ``gather_async_work`` uses no state of the context; ``track_async_work`` runs while the
    execution, which holds the context, is still going."""
    owner = weakref.ref(context)

    def track(values: Any) -> None:
        executing = owner()
        if executing is not None:
            executing.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=_gather, track=track)


class PageExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = _helpers_without_a_cycle(self)

    def _plain_reader(self, field_def: GraphQLField) -> _Plain | _PlainObject | None:
        # Kept on the field object, so it lives and dies with its schema. A dict keyed by id()
        # outlived freed schemas, and a later schema's field at a reused address was read with
        # another field's reader (a customer's version came back as its id).
        try:
            return field_def.__dict__[_READER]
        except KeyError:
            reader = _plain_reader_of(field_def)
            field_def.__dict__[_READER] = reader
            return reader

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[tuple[Any, ...]]:
        """Each field of a selection with its definition and plain reader (or None), worked out once
        per request: graphql-core hands every object of a list the same collected field set."""
        try:
            plans = self._kehu_plans
        except AttributeError:
            plans = self._kehu_plans = {}
        key = (parent_type, id(grouped_field_set))
        cached = plans.get(key)
        if cached is not None:
            return cached[1]
        fields = parent_type.fields
        plan = []
        for response_name, field_details_list in grouped_field_set.items():
            node = field_details_list[0].node
            field_def = fields.get(node.name.value)
            reader = self._plain_reader(field_def) if field_def is not None and not node.arguments else None
            plan.append((response_name, field_details_list, field_def, reader))
        # the field set is kept with its plan, so its id cannot be reused within the request
        plans[key] = (grouped_field_set, plan)
        return plan

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any, path: Path | None,
                       grouped_field_set: Any, position_context: Any) -> Any:
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, field_details_list, field_def, reader in self._plan(parent_type, grouped_field_set):
                if reader is not None:
                    value = (reader.value(source_value) if reader.leaf else
                             self._plain_objects(reader, field_def, parent_type, source_value, field_details_list,
                                                 path, response_name))
                    if value is not _SLOW:
                        results[response_name] = value
                        if not reader.leaf and is_awaitable(value):
                            awaitable_fields.append(response_name)
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

    def _plain_objects(self, reader: _PlainObject, field_def: GraphQLField, parent_type: GraphQLObjectType,
                       source: Any, field_details_list: Any, path: Path | None, response_name: str) -> Any:
        """A plain object field's completed value (awaitable when something below it is), or _SLOW."""
        try:
            result = reader.resolve(source)
        except Exception:  # noqa: BLE001 - graphql-core reports it with the field's path
            return _SLOW
        if result is None:
            return _SLOW if reader.non_null else None
        if any(details.node.directives for details in field_details_list):
            return _SLOW  # @stream, @defer, @skip with variables: graphql-core's incremental machinery
        object_type = reader.object_type
        grouped_field_set, defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        if defer_usages:
            return _SLOW
        is_type_of = object_type.is_type_of
        items = [result] if not reader.is_list else result
        if reader.is_list and (isinstance(result, str | bytes | Mapping) or not isinstance(result, list | tuple)):
            return _SLOW
        for item in items:
            if item is None:
                if reader.item_non_null or not reader.is_list:
                    return _SLOW
            elif is_type_of is not None and not is_type_of(item, None):
                return _SLOW  # graphql-core raises its "Expected value of type" error
        field_path = Path(path, response_name, parent_type.name)
        if not reader.is_list:
            try:
                completed = self.execute_fields(object_type, result, field_path, grouped_field_set, None)
            except Exception as error:  # noqa: BLE001 - a non-null field below failed: null here
                self.handle_field_error(error, field_def.type, field_details_list, field_path)
                return None
            if self.is_awaitable(completed):
                return self._settled(completed, field_def.type, field_details_list, field_path)
            return completed
        values: list[Any] = []
        pending: list[int] = []
        try:
            for index, item in enumerate(result):
                if item is None:
                    values.append(None)
                    continue
                item_path = Path(field_path, index, None)
                try:
                    value = self.execute_fields(object_type, item, item_path, grouped_field_set, None)
                except Exception as error:  # noqa: BLE001 - raised on when the items are non-null
                    self.handle_field_error(error, reader.item_type, field_details_list, item_path)
                    value = None
                if self.is_awaitable(value):
                    value = self._settled(value, reader.item_type, field_details_list, item_path)
                    pending.append(index)
                values.append(value)
        except Exception as error:  # noqa: BLE001 - a non-null item failed: null here
            if pending:
                self.settle_in_background([values[index] for index in pending])
            self.handle_field_error(error, field_def.type, field_details_list, field_path)
            return None
        if not pending:
            return values

        async def gathered() -> list[Any] | None:
            try:
                settled = await gather_with_cancel(*(values[index] for index in pending))
            except Exception as error:  # noqa: BLE001 - a non-null item failed: null here
                self.handle_field_error(error, field_def.type, field_details_list, field_path)
                return None
            for index, value in zip(pending, settled, strict=True):
                values[index] = value
            return values

        return gathered()

    async def _settled(self, completed: Awaitable[Any], return_type: GraphQLOutputType, field_details_list: Any,
                       path: Path) -> Any:
        try:
            return await completed
        except Exception as error:  # noqa: BLE001 - as graphql-core's own awaited completion
            self.handle_field_error(error, return_type, field_details_list, path)
            return None
