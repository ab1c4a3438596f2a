"""The page execution context returns exactly what graphql-core's own execution returns:
same data, same errors at the same paths — it is only faster for plain fields."""

from __future__ import annotations

import datetime
import enum
import uuid

import strawberry

from gateway.graphql.execution import PageExecutionContext


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    id: uuid.UUID
    name: str
    nickname: str | None
    tags: list[str]
    maybe_tags: list[str | None] | None
    colour: Colour
    when: datetime.date
    strict: str  # the test feeds None here: a non-null violation
    count: int

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()

    @property
    def broken(self) -> str:
        raise ValueError("boom")


@strawberry.type
class Broken:
    @strawberry.field
    def value(self) -> int:
        return 1

    text: str


def _items() -> list[Item]:
    return [Item(id=uuid.UUID(int=i), name=f"n{i}", nickname=None if i % 2 else f"k{i}", tags=["a", "b"][: i % 3],
                 maybe_tags=None if i == 1 else ["x", None], colour=Colour.RED if i % 2 else Colour.BLUE,
                 when=datetime.date(2026, 1, 1 + i), strict="s" if i != 2 else None, count=i)  # type: ignore[arg-type]
            for i in range(4)]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def bad_count(self) -> list[Item]:
        items = _items()
        items[3].count = "not a number"  # type: ignore[assignment]
        return items


def _both(query: str) -> tuple[dict, dict]:
    plain = strawberry.Schema(query=Query)
    fast = strawberry.Schema(query=Query, execution_context_class=PageExecutionContext)
    results = []
    for schema in (plain, fast):
        result = schema.execute_sync(query)
        results.append({"data": result.data,
                        "errors": sorted((e.message, tuple(e.path or ())) for e in result.errors or [])})
    return results[0], results[1]


def test_plain_fields_come_back_as_graphql_core_returns_them():
    expected, got = _both("{ items { id name nickname tags maybeTags colour when count shout __typename "
                          "alias: name again: tags } }".replace("items {", "items { ", 1).replace(" strict", ""))
    assert got == expected and not got["errors"]


def test_a_null_in_a_non_null_field_is_the_same_error_at_the_same_path():
    expected, got = _both("{ items { name strict } }")
    assert got == expected
    assert got["errors"] and got["errors"][0][1] == ("items", 2, "strict")


def test_a_value_the_scalar_refuses_is_the_same_error():
    expected, got = _both("{ badCount { name count } }")
    assert got == expected and got["errors"] and got["errors"][0][1] == ("badCount", 3, "count")
