"""The isolation suite covers every GraphQL operation: each query and mutation of the schema (as
the app builds it, with the installed verticals) has an entry in tests/isolation/operations.py,
and every entry is a valid document against that schema."""

from __future__ import annotations

import strawberry
from graphql import GraphQLSchema, parse, validate

from gateway.graphql.schema import Mutation, Query, build_schema
from tests.isolation.operations import OPS, SNAPSHOT, root_fields


def uncovered(schema: GraphQLSchema, docs: list[str]) -> list[str]:
    """Operations of ``schema`` that none of ``docs`` exercises."""
    operations = {*schema.query_type.fields, *schema.mutation_type.fields}
    return sorted(operations - {name for doc in docs for name in root_fields(doc)})


def test_every_operation_of_the_schema_has_isolation_coverage(sqlite_settings):
    missing = uncovered(build_schema(sqlite_settings)._schema, [op.doc for op in OPS])
    assert not missing, f"operations without an entry in tests/isolation/operations.py: {missing}"


def test_every_entry_is_a_valid_document(sqlite_settings):
    schema = build_schema(sqlite_settings)._schema
    invalid = {doc: [e.message for e in errors] for doc in [SNAPSHOT, *(op.doc for op in OPS)]
               if (errors := validate(schema, parse(doc)))}
    assert not invalid, invalid


def test_a_new_operation_without_an_entry_fails_the_check():
    @strawberry.type
    class Grown(Mutation):
        @strawberry.mutation
        def brand_new_operation(self) -> bool:
            return True

    docs = [op.doc for op in OPS]
    before = uncovered(strawberry.Schema(query=Query, mutation=Mutation)._schema, docs)
    after = uncovered(strawberry.Schema(query=Query, mutation=Grown)._schema, docs)
    assert set(after) - set(before) == {"brandNewOperation"}
    covered = [*docs, "mutation { brandNewOperation }"]
    assert "brandNewOperation" not in uncovered(strawberry.Schema(query=Query, mutation=Grown)._schema, covered)
