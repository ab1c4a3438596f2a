"""Issue 17 point 7: every timestamp of the schema is an ISO-8601 DateTime, never an integer or a
free string an integrator has to guess the meaning of."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType, get_named_type
from litestar.testing import AsyncTestClient

from core.settings import load_settings
from gateway.app import create_app
from gateway.graphql.schema import build_schema
from tests.support import PASSWORD

TIME_NAME = re.compile(r"(^(at|since|until|date|time)$)|([a-z0-9](At|Time|Date|Until|Since)$)")
TIME_TYPES = {"DateTime", "Date"}
# Named like a time but not one: "onTime" counts clocks met by their due time (complaint reports).
NOT_TIMES = {"onTime"}


def time_fields_of_other_types() -> list[str]:
    """Every field, argument and input field named like a time whose type is not DateTime/Date."""
    schema = build_schema(load_settings())._schema
    wrong = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(
                type_, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            continue
        for name, field in type_.fields.items():
            if TIME_NAME.search(name) and name not in NOT_TIMES and get_named_type(field.type).name not in TIME_TYPES:
                wrong.append(f"{type_.name}.{name}: {field.type}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if TIME_NAME.search(arg_name) and get_named_type(arg.type).name not in TIME_TYPES:
                    wrong.append(f"{type_.name}.{name}({arg_name}): {arg.type}")
    return wrong


def test_every_time_of_the_schema_is_a_datetime():
    """Issue 17 point 7: a field or argument named *At/*Time/*Date/*Until/*Since is a DateTime."""
    assert TIME_NAME.search("accessExpiresAt") and TIME_NAME.search("since") and not TIME_NAME.search("format")
    assert time_fields_of_other_types() == []


async def test_login_answers_when_the_access_token_expires_as_iso_8601(settings, seeded):
    """Issue 17 point 7: accessExpiresAt is an ISO-8601 time with its offset (it was Unix seconds)."""
    from tests.gateway.test_identity_api import LOGIN, gql

    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})
    query = LOGIN.replace("{ accessToken", "{ accessToken accessExpiresAt")
    async with AsyncTestClient(create_app(relaxed)) as client:
        body = (await gql(client, query, t="acme", u="admin", p=PASSWORD)).json()
    login = body["data"]["login"]
    assert login["errors"] == [] and isinstance(login["accessExpiresAt"], str), body
    expires = datetime.fromisoformat(login["accessExpiresAt"])
    assert expires.tzinfo is not None
    assert timedelta(minutes=1) < expires - datetime.now(UTC) <= timedelta(hours=1)
