"""Shared GraphQL pieces: user errors in payloads, ID parsing, the caller's context, paging."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.context import Context
from core.db.keyset import Window
from core.errors import KehuError
from gateway.graphql.errors import input_path

T = TypeVar("T")
V = TypeVar("V")


@strawberry.type(description="Why a mutation changed nothing: a stable code, the input field (its path in the "
                             "schema's input names: givenName, contacts.0.givenName), a message.")
class UserError:
    field: str | None
    code: str
    message: str
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer the error is about, if you may read it: for DUPLICATE_IDENTIFIER, "
                                  "the customer already holding the identifier.")


@strawberry.type(description="Where a page lies in its list (Relay): whether rows lie after or before it, "
                             "and the cursors of its first and last edge.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type(description="A page of a list: first/after pages forward, last/before backward (Relay).")
class Connection(Generic[T]):
    edges: list[Edge[T]]
    nodes: list[T] = strawberry.field(description="The edges' nodes, for callers that need no cursors.")
    page_info: PageInfo


@strawberry.interface(description="An object node(id:) fetches again by its id (Relay).")
class Node:
    id: strawberry.ID


def ctx_of(info: Info) -> Context:
    return info.context.ctx


def parse_id(value: strawberry.ID | str, field: str) -> UUID:
    """A raw UUID, or a global id (base64 of "Type:uuid", what node(id:) also takes)."""
    try:
        return UUID(str(value))
    except ValueError:
        pass
    parsed = parse_global_id(str(value))
    if parsed is None:
        raise KehuError("ID_INVALID", f"{field} is not a valid id", f"{field} 不是有效的 ID", field=field)
    return parsed[1]


def global_id(type_name: str, id_: UUID) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{id_}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, UUID] | None:
    """(type name, uuid) of a global id, or None if it is not one."""
    try:
        type_name, _, raw = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
        return (type_name, UUID(raw)) if type_name.isidentifier() else None
    except (ValueError, UnicodeError, binascii.Error):
        return None


# Node types by name: how node(id:) fetches one, through the same service call as the type's own query.
NODE_LOADERS: dict[str, Callable[[Info, UUID], Awaitable[Any]]] = {}


def node_loader(type_name: str) -> Callable[[Callable[[Info, UUID], Awaitable[Any]]], Callable[[Info, UUID], Awaitable[Any]]]:
    def register(load: Callable[[Info, UUID], Awaitable[Any]]) -> Callable[[Info, UUID], Awaitable[Any]]:
        NODE_LOADERS[type_name] = load
        return load
    return register


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise KehuError("CURSOR_INVALID", "the cursor is not one this API gave out", "游标无效", field="after") from None


def _cursor_invalid(argument: str) -> KehuError:
    return KehuError("CURSOR_INVALID", f"{argument} is not a cursor this list gave out",
                     f"{argument} 不是本列表给出的游标", field=argument)


def _plain(key: Sequence[Any]) -> list[Any]:
    return [k if isinstance(k, int) else k.isoformat() if isinstance(k, datetime) else str(k) for k in key]


def make_cursor(list_name: str, key: Sequence[Any]) -> str:
    """Opaque to callers: the list it belongs to and the row's key in the list's order."""
    return base64.urlsafe_b64encode(json.dumps([list_name, _plain(key)], ensure_ascii=False,
                                               separators=(",", ":")).encode()).decode()


def _cursor_key(list_name: str, cursor: str | None, argument: str) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        name, key = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise _cursor_invalid(argument) from None
    # A cursor of another list (or another sort of this one) would page from a meaningless place.
    if name != list_name or not isinstance(key, list) or not all(isinstance(k, str | int) for k in key):
        raise _cursor_invalid(argument)
    return key


@dataclass(frozen=True, slots=True)
class PageRequest:
    """What the caller asked of a connection: ``size`` rows after/before the cursors' keys,
    counted from the end of that range when ``backward`` (``last``)."""

    list_name: str
    size: int
    after: list[Any] | None
    before: list[Any] | None
    backward: bool

    def window(self, parse: Callable[[list[Any]], tuple[Any, ...]]) -> Window:
        """The keyset window, the cursors' keys converted by ``parse`` (a bad key: CURSOR_INVALID)."""
        def key(raw: list[Any] | None, argument: str) -> tuple[Any, ...] | None:
            if raw is None:
                return None
            try:
                key = parse(raw)
            except (ValueError, TypeError, IndexError):
                raise _cursor_invalid(argument) from None
            if len(key) != len(raw):  # a key of another shape than this list's
                raise _cursor_invalid(argument)
            return key
        return Window(self.size, key(self.after, "after"), key(self.before, "before"), self.backward)


def time_id_key(key: list[Any]) -> tuple[datetime, UUID]:
    """The key of lists in (created_at, id) order."""
    at, id_ = key
    return datetime.fromisoformat(at), UUID(id_)


def page_request(info: Info, list_name: str, first: int | None = None, after: str | None = None,
                 last: int | None = None, before: str | None = None) -> PageRequest:
    """The page arguments checked: one of first/last, within the page cap; cursors of this list."""
    if first is not None and last is not None:
        raise KehuError("PAGE_ARGUMENTS_CONFLICT", "give first or last, not both", "first 与 last 只能给其一",
                        field="last")
    cap = info.context.settings.page_size_max
    for argument, value in (("first", first), ("last", last)):
        if value is not None and not 1 <= value <= cap:
            raise KehuError("PAGE_SIZE_INVALID", f"{argument} must be between 1 and {cap}",
                            f"{argument} 须在 1 至 {cap} 之间", field=argument)
    size = first if first is not None else last if last is not None else min(50, cap)
    return PageRequest(list_name, size, _cursor_key(list_name, after, "after"),
                       _cursor_key(list_name, before, "before"), backward=last is not None)


class _LazyEdge(Edge):
    """An edge whose cursor is made when a query reads it: a page of 100 rows made 100 cursors
    (a JSON text and its base64 each) that most queries, asking for nodes only, never read."""

    def __init__(self, list_name: str, key: Callable[[Any], Sequence[Any]], item: Any, node: Any) -> None:
        self._cursor_of = (list_name, key, item)
        self.node = node

    @property
    def cursor(self) -> str:  # type: ignore[override]
        list_name, key, item = self._cursor_of
        return make_cursor(list_name, key(item))


def _connection(request: PageRequest, page: Sequence[V], key: Callable[[V], Sequence[Any]],
                node: Callable[[V], T], has_next: bool, has_previous: bool) -> Connection[T]:
    edges = [_LazyEdge(request.list_name, key, v, node(v)) for v in page]
    return Connection(edges=edges, nodes=[e.node for e in edges], page_info=PageInfo(
        has_next_page=has_next, has_previous_page=has_previous,
        start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None))


def keyset_connection(request: PageRequest, page: Sequence[V], more: bool, key: Callable[[V], Sequence[Any]],
                      node: Callable[[V], T]) -> Connection[T]:
    """A connection of a page read with core.db.keyset.fetch. The far side is known from the extra
    row; the near side from the cursor (rows lie before the row an ``after`` cursor names)."""
    if request.backward:
        return _connection(request, page, key, node, has_next=request.before is not None, has_previous=more)
    return _connection(request, page, key, node, has_next=more, has_previous=request.after is not None)


def list_connection(request: PageRequest, items: Sequence[V], key: Callable[[V], Sequence[Any]],
                    node: Callable[[V], T]) -> Connection[T]:
    """A connection over a short list a service returns whole (in its order), paged in memory
    under the same cap. A cursor whose row has left the list is refused: start again."""
    keys = [_plain(key(v)) for v in items]

    def position(raw: list[Any], argument: str) -> int:
        try:
            return keys.index(raw)
        except ValueError:
            raise _cursor_invalid(argument) from None

    start = position(request.after, "after") + 1 if request.after is not None else 0
    end = position(request.before, "before") if request.before is not None else len(items)
    end = max(start, end)
    if request.backward:
        first_index = max(start, end - request.size)
        page = items[first_index:end]
        return _connection(request, page, key, node, has_next=end < len(items), has_previous=first_index > 0)
    last_index = min(end, start + request.size)
    page = items[start:last_index]
    return _connection(request, page, key, node, has_next=last_index < len(items), has_previous=start > 0)


def page_size(info: Info, first: int | None) -> int:
    cap = info.context.settings.page_size_max
    if first is None:
        return min(50, cap)
    if first < 1 or first > cap:
        raise KehuError("PAGE_SIZE_INVALID", f"first must be between 1 and {cap}", f"first 须在 1 至 {cap} 之间",
                        field="first")
    return first


async def mutate(info: Info, payload: Callable[..., T], call: Callable[[], Awaitable[dict[str, Any]]]) -> T:
    """Run a mutation's service call; a coded failure becomes ``errors`` on the payload."""
    try:
        return payload(**await call(), errors=[])
    except KehuError as error:
        await _register_refusal(info, error)
        return payload(errors=[user_error(info, error)])


async def _register_refusal(info: Info, error: KehuError) -> None:
    """Every refused mutation (permission or validation) into the tenant's register of refused
    attempts (core.identity.refusals; seed-004 CSM-1, CSM-19), after its own work rolled back:
    the operation's name and its arguments with every secret-like one masked."""
    if getattr(error, "refusal_recorded", False):  # sign-in wrote its own, with more detail
        return
    ctx = ctx_of(info)
    if ctx.tenant_id is None:
        return
    from graphql import value_from_ast_untyped

    from core.identity.refusals import record_refusal

    raw = info._raw_info
    try:
        arguments = {node.name.value: value_from_ast_untyped(node.value, raw.variable_values)
                     for node in raw.field_nodes[0].arguments or ()}
    except Exception:  # the refusal is what matters; its arguments are a courtesy
        arguments = {}
    await record_refusal(ctx, operation=raw.field_name, code=error.code,
                         arguments={"arguments": arguments, **({"field": error.field} if error.field else {})})


def user_error(info: Info, error: KehuError) -> UserError:
    """A coded failure as a payload's error: ``field`` turned from core's Python names into the
    mutation's input names, once, here (gateway.graphql.errors.input_path)."""
    raw = info._raw_info  # the field's GraphQL definition: its arguments and input types
    arguments = raw.parent_type.fields[raw.field_name].args
    field = input_path(error.field, arguments, info.schema.config.name_converter.apply_naming_config) \
        if error.field else None
    customer_id = getattr(error, "customer_id", None)
    return UserError(field=field, code=error.code, message=error.message(ctx_of(info).language),
                     customer_id=strawberry.ID(str(customer_id)) if customer_id is not None else None)
