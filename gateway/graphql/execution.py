"""Execution tuned for large pages: a field with no resolver of its own that returns a scalar (or
a list of scalars) does not get a resolve-info object built for it.

graphql-core builds one for every field it executes; Strawberry's default resolver for such a
field ignores it, and completing a scalar never reads it. On a 100-customer page with contacts
that is ~1,500 objects per request that nobody uses.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLField, GraphQLList, GraphQLNonNull, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_UNUSED_INFO = None


def _leaf(type_: Any) -> bool:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return is_leaf_type(type_)


class PageExecutionContext(StrawberryGraphQLCoreExecutionContext):
    _plain_leaf: dict[int, bool] = {}  # id of a schema field -> needs no info (fields live as long as the schema)

    def build_resolve_info(self, field_def: GraphQLField, *args: Any, **kwargs: Any) -> Any:
        key = id(field_def)
        plain = self._plain_leaf.get(key)
        if plain is None:
            # Strawberry names the resolver of a plain attribute field (no resolver, no permission
            # classes, no field extensions) _get_basic_result; it calls get_result without info.
            plain = self._plain_leaf[key] = (getattr(field_def.resolve, "__name__", "") == "_get_basic_result"
                                             and _leaf(field_def.type))
        if plain:
            return _UNUSED_INFO
        return super().build_resolve_info(field_def, *args, **kwargs)
