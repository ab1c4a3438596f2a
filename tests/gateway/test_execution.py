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


@strawberry.interface
class Named:
    name: str


@strawberry.type
class Part(Named):
    strict: str  # None in some parts: a non-null violation inside a plain object

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError("part broke")

    @strawberry.field
    def failing_strict(self) -> str:
        raise ValueError("part broke hard")

    @strawberry.field
    async def later(self) -> str:
        return self.name

    @strawberry.field
    async def later_strict(self) -> str:
        raise ValueError("part broke later")


@strawberry.type
class NotAPart:
    name: str


@strawberry.type
class Whole:
    name: str
    part: Part | None
    must_part: Part
    parts: list[Part]
    maybe_parts: list[Part | None] | None
    wrong: Part | None  # holds a NotAPart: Strawberry's type check refuses it


def _wholes() -> list[Whole]:
    def part(i: int, j: int) -> Part:
        return Part(name=f"p{i}.{j}", strict=None if (i, j) == (1, 1) else "s")  # type: ignore[arg-type]

    return [Whole(name=f"w{i}", part=None if i == 2 else part(i, 0), must_part=part(i, 9),
                  parts=[part(i, j) for j in range(3)], maybe_parts=None if i == 0 else [part(i, 0), None],
                  wrong=NotAPart(name="x") if i == 1 else None)  # type: ignore[arg-type]
            for i in range(3)]


@strawberry.type
class WholeQuery:
    @strawberry.field
    def wholes(self) -> list[Whole]:
        return _wholes()

    @strawberry.field
    def maybe_wholes(self) -> list[Whole | None] | None:
        return [*_wholes(), None]


def _both_async(query: str) -> tuple[dict, dict]:
    import asyncio

    results = []
    for context in (None, PageExecutionContext):
        schema = strawberry.Schema(query=WholeQuery, types=[NotAPart],
                                   **({"execution_context_class": context} if context else {}))
        result = asyncio.run(schema.execute(query))
        results.append({"data": result.data,
                        "errors": sorted((e.message, tuple(e.path or ())) for e in result.errors or [])})
    return results[0], results[1]


def test_plain_objects_and_lists_of_them_come_back_as_graphql_core_returns_them():
    expected, got = _both_async("{ wholes { name part { name } mustPart { name __typename } parts { name } "
                                "maybeParts { name } wrong { __typename } } }".replace(" wrong { __typename }", ""))
    assert got == expected and not got["errors"]
    assert got["data"]["wholes"][1]["maybeParts"] == [{"name": "p1.0"}, None]


def test_a_failing_field_inside_a_plain_object_nulls_the_same_fields_at_the_same_paths():
    """A nullable field error stays in its field; a non-null one nulls the nearest nullable
    ancestor (an object, a list item, the list, the root field), wherever the object is read by
    the fast path; the errors carry the same paths."""
    for query in ("{ wholes { part { name failing } } }",
                  "{ maybeWholes { part { failingStrict } } }",
                  "{ maybeWholes { mustPart { failingStrict } } }",
                  "{ maybeWholes { parts { name failingStrict } } }",
                  "{ maybeWholes { name maybeParts { name failingStrict } } }",
                  "{ maybeWholes { name parts { name strict } } }",
                  "{ wholes { name parts { strict } } }"):
        expected, got = _both_async(query)
        assert got == expected, query
        assert got["errors"], query


def test_awaited_fields_below_plain_objects_settle_as_graphql_core_settles_them():
    for query in ("{ wholes { part { later } parts { later name } maybeParts { later } } }",
                  "{ maybeWholes { name parts { name laterStrict } } }",
                  "{ maybeWholes { mustPart { later laterStrict } } }"):
        expected, got = _both_async(query)
        assert got == expected, query


def test_an_object_of_the_wrong_type_is_the_same_error():
    expected, got = _both_async("{ maybeWholes { name wrong { name } } }")
    assert got == expected
    assert [path for _, path in got["errors"]] == [("maybeWholes", 1, "wrong")]


_FRESH_SCHEMAS = """
import gc, sys
import strawberry
from gateway.graphql.execution import PageExecutionContext

@strawberry.type
class Row:
    id: strawberry.ID
    version: int

@strawberry.type
class RowQuery:
    round_: strawberry.Private[int]

    @strawberry.field
    def row(self) -> Row:
        return Row(id=strawberry.ID(f"row-{self.round_}"), version=self.round_)

for round_ in range(int(sys.argv[1])):
    schema = strawberry.Schema(query=RowQuery, execution_context_class=PageExecutionContext)
    result = schema.execute_sync("{ row { version id } }", root_value=RowQuery(round_=round_))
    expected = {"row": {"version": round_, "id": f"row-{round_}"}}
    if result.errors or result.data != expected:
        sys.exit(f"round {round_}: {result.data} {result.errors}")
    del schema, result
    gc.collect()  # the freed schema's fields free their addresses for the next one's
"""


def test_a_schema_built_after_another_was_freed_reads_its_own_fields():
    """Schemas come and go (every app a test builds has its own): a field of a new schema must
    never be read with the reader of a freed schema's field that happened to live at the same
    address. A CI run once saw a customer's version come back as its id. In a fresh interpreter,
    whose small heap makes the collections quick: without the fix it failed within 100 rounds."""
    import subprocess
    import sys
    from pathlib import Path

    done = subprocess.run([sys.executable, "-c", _FRESH_SCHEMAS, "100"], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@strawberry.type
class HelpersQuery:
    @strawberry.field
    async def gathered(self, info: strawberry.Info) -> list[int]:
        async def one(value: int) -> int:
            return value

        return await info._raw_info.async_helpers.gather([one(1), one(2)])

    @strawberry.field
    def tracked(self, info: strawberry.Info) -> int:
        async def left_behind() -> None:
            _SETTLED.append("settled")

        info._raw_info.async_helpers.track([left_behind(), 5])
        return 3


_SETTLED: list[str] = []


def test_an_execution_leaves_no_reference_cycle_and_the_resolvers_async_helpers_still_work():
    """P1 (issue 27): graphql-core keeps two bound methods of the execution context on the context,
    so every request's context, with the GraphQL context, request and response it holds, waited
    for the cycle collector (~25 µs of collections a request). Here the context is freed by its
    reference count as the execution ends; a resolver's ``gather`` and ``track`` still work."""
    import asyncio
    import gc

    _SETTLED.clear()
    schema = strawberry.Schema(query=HelpersQuery, execution_context_class=PageExecutionContext)
    asyncio.run(schema.execute("{ __typename }"))  # warm: the schema's caches
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = asyncio.run(schema.execute("{ gathered tracked }"))
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, PageExecutionContext)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not result.errors, result.errors
    assert result.data == {"gathered": [1, 2], "tracked": 3}
    assert _SETTLED == ["settled"]  # the tracked awaitable ran in the background
    assert left == []
