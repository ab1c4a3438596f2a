"""The root-field walk behind the metrics label, idempotency and the credential-batching rule runs on
unvalidated requests: a document spreading one fragment twice at each of 40 levels (2^40 paths)
must cost its size, not hang the request (nothing unbounded runs per request)."""

import time

from graphql import parse
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

from gateway.graphql.limits import root_fields
from gateway.idempotency import mutation_fields
from gateway.metrics import _root_field

LEVELS = 40


def _fragment_bomb(operation: str = "query") -> str:
    fragments = [f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(LEVELS)]
    fragments.append(f"fragment F{LEVELS} on Query {{ customers {{ totalCount }} }}")
    return f"{operation} {{ ...F0 }} " + " ".join(fragments)


def test_a_fragment_bomb_is_walked_once_per_fragment():
    document = parse(_fragment_bomb())
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    started = time.monotonic()
    names = [field.name.value for field in root_fields(operation.selection_set, fragments)]
    assert names == ["customers"]
    assert time.monotonic() - started < 5  # 2^40 visits would never finish


def test_the_metrics_label_and_idempotency_read_a_fragment_bomb_at_once():
    assert _root_field(_fragment_bomb(), None, 100_000) == "customers"
    assert mutation_fields(_fragment_bomb("mutation"), None) == ("customers",)


def test_fields_through_inline_and_named_fragments_are_all_found():
    document = parse("mutation { a: login { x } ... on Mutation { b: login { x } } ...M } "
                     "fragment M on Mutation { c: tokenRefresh { x } }")
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    assert [f.alias.value for f in root_fields(operation.selection_set, fragments)] == ["a", "b", "c"]
