"""Shared GraphQL pieces: user errors in payloads, ID parsing, the caller's context, paging."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.context import Context
from core.errors import KehuError
from gateway.graphql.errors import input_path

T = TypeVar("T")


@strawberry.type(description="Why a mutation changed nothing: a stable code, the input field (its path in the "
                             "schema's input names: givenName, contacts.0.givenName), a message.")
class UserError:
    field: str | None
    code: str
    message: str
    customer_id: strawberry.ID | None = strawberry.field(
        default=None, description="The customer the error is about, if you may read it: for DUPLICATE_IDENTIFIER, "
                                  "the customer already holding the identifier.")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def ctx_of(info: Info) -> Context:
    return info.context.ctx


def parse_id(value: strawberry.ID | str, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise KehuError("ID_INVALID", f"{field} is not a valid id", f"{field} 不是有效的 ID", field=field) from None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise KehuError("CURSOR_INVALID", "the cursor is not one this API gave out", "游标无效", field="after") from None


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
        return payload(errors=[user_error(info, error)])


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
