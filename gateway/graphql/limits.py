"""Abuse limits on every GraphQL document, checked before execution, and the parse/validation caches.

The depth, alias and credential rules are built once per schema (``DocumentGate``), and each
document text is validated once against them. Page sizes, cost and introspection depend on the
variables and the caller, so they are checked per request after validation, from a plan of the
document that is computed once per document.

Nothing unbounded runs on the event loop per request: a document is bounded in bytes and tokens
before and while it is parsed, then in expanded size (fragments counted as often as they are
spread) in linear time before validation, the depth limiter or the planner walk it; long
documents are validated in a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
    specified_rules,
    validate,
)
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.types import ExecutionContext

from core.errors import KehuError
from core.settings import Settings
from gateway.rate_limits import CostLimiter, cost_limiter

CACHE_SIZE = 1024
# Longer documents are validated in a thread; shorter ones validate within milliseconds.
INLINE_VALIDATION_CHARS = 2048
PAGE_ARGUMENTS = ("first", "last", "limit", "pageSize")
DEFAULT_PAGE_SIZE = 50  # what gateway.graphql.common.page_size gives when `first` is left out
UNPAGED_LIST_SIZE = 10  # what a list without a page argument is assumed to hold
# Mutations that try a credential: one per request, so a request is one guess.
CREDENTIAL_MUTATIONS = frozenset({"login", "tokenRefresh", "passwordChange"})
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class _CodingContext:
    """A validation context that stamps a code on every error a rule reports."""

    def __init__(self, context: Any, code: str) -> None:
        self._context = context
        self._code = code

    def report_error(self, error: GraphQLError) -> None:
        error.extensions = {**(error.extensions or {}), "code": self._code}
        self._context.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded_rule(rule: type[ASTValidationRule], code: str) -> type[ASTValidationRule]:
    class CodedRule(rule):  # type: ignore[valid-type, misc]
        def __init__(self, context: Any) -> None:
            super().__init__(_CodingContext(context, code))

    CodedRule.__name__ = f"Coded{rule.__name__}"
    return CodedRule


def root_fields(selection_set: SelectionSetNode, fragments: Mapping[str, FragmentDefinitionNode],
                visited: set[str] | None = None) -> Iterator[FieldNode]:
    """The fields at the top of ``selection_set``, through inline fragments and fragment spreads.

    Each fragment is entered once per walk: a document that spreads one fragment many times, at
    every level, costs its own size, not 2^depth (this runs on unvalidated requests)."""
    visited = set() if visited is None else visited
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from root_fields(selection.selection_set, fragments, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name not in visited and name in fragments:
                visited.add(name)
                yield from root_fields(fragments[name].selection_set, fragments, visited)


class OneCredentialAttempt(ASTValidationRule):
    """A credential mutation (login, tokenRefresh, passwordChange) is the only field of its
    operation: aliases would otherwise turn one request into many password guesses."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        if node.operation is not OperationType.MUTATION:
            return
        fragments = {d.name.value: d for d in self.context.document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        fields = list(root_fields(node.selection_set, fragments))
        credential = [f for f in fields if f.name.value in CREDENTIAL_MUTATIONS]
        if credential and len(fields) > 1:
            self.report_error(GraphQLError(
                f"{credential[0].name.value} must be the only field of its request (no aliases, no batching)",
                credential, extensions={"code": "LOGIN_NOT_BATCHABLE"}))


# --- Per-request checks: page sizes, cost, introspection --------------------------------------

@dataclass(frozen=True, slots=True)
class _Page:
    """A page-size argument as written: a literal or a variable (with the variable's default)."""

    argument: str
    literal: int | None
    variable: str | None
    default: int | None

    def value(self, variables: Mapping[str, Any]) -> int | None:
        if self.variable is not None:
            value = variables.get(self.variable, self.default)
            return value if type(value) is int else None  # a bad value is the resolver's to refuse
        return self.literal


@dataclass(frozen=True, slots=True)
class _Node:
    """One field of the plan: ``own + multiplier * sum(children)``, the multiplier being the page
    size when one is given."""

    own: int
    page: _Page | None  # checked against the cap wherever it is
    multiplier: int  # when no page size is given
    children: tuple[_Node, ...]
    node: FieldNode
    paged: bool = True  # False on a connection: its page size multiplies the lists inside it


@dataclass(frozen=True, slots=True)
class Plan:
    fields: tuple[_Node, ...]
    introspects: bool


def _is_list(type_: Any) -> bool:
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return isinstance(type_, GraphQLList)


def _page_of(field: FieldNode, variable_defaults: Mapping[str, Any]) -> _Page | None:
    for argument in field.arguments or ():
        if argument.name.value in PAGE_ARGUMENTS:
            value = argument.value
            if isinstance(value, VariableNode):
                name = value.name.value
                return _Page(argument.name.value, None, name, variable_defaults.get(name))
            if isinstance(value, IntValueNode):
                return _Page(argument.name.value, int(value.value), None, None)
    return None


class _Planner:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.defaults = {d.variable.name.value: int(d.default_value.value) for d in operation.variable_definitions or ()
                         if isinstance(d.default_value, IntValueNode)}
        self.introspects = False

    def selections(self, selection_set: SelectionSetNode | None, parent: Any, paging: tuple[_Page | None, int] | None,
                   seen: frozenset[str] = frozenset()) -> Iterator[_Node]:
        """``paging``: the page size of the connection around these fields, for its lists."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield self.field(selection, parent, paging)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else None
                yield from self.selections(selection.selection_set, target or parent, paging, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # fragment cycles are a validation error
                    target = self.schema.get_type(fragment.type_condition.name.value) or parent
                    yield from self.selections(fragment.selection_set, target, paging, seen | {name})

    def field(self, node: FieldNode, parent: Any, paging: tuple[_Page | None, int] | None) -> _Node:
        name = node.name.value
        if name in INTROSPECTION_FIELDS:
            self.introspects = True
        definition = getattr(parent, "fields", {}).get(name)
        if name.startswith("__") or definition is None:
            # __typename is answered without a resolver; the schema's meta fields are cheap lists.
            children = tuple(self.selections(node.selection_set, None, None))
            return _Node(0 if name == "__typename" else 1, None, 1, children, node)
        page = _page_of(node, self.defaults)
        pageable = any(argument in definition.args for argument in PAGE_ARGUMENTS)
        named = get_named_type(definition.type)
        if not _is_list(definition.type):
            # A connection: its page size multiplies the lists directly inside it (edges, nodes).
            inner = (page, DEFAULT_PAGE_SIZE) if pageable or page else None
            return _Node(1, page, 1, tuple(self.selections(node.selection_set, named, inner)), node, paged=False)
        if page is None and not pageable and paging is not None:
            page, default = paging
        else:
            default = DEFAULT_PAGE_SIZE if pageable else UNPAGED_LIST_SIZE
        return _Node(1, page, default, tuple(self.selections(node.selection_set, named, None)), node)


def plan(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Plan | None:
    """The cost plan of the operation that will run; None when there is no such single operation
    (execution reports that)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [d for d in operations if d.name and d.name.value == operation_name]
    if len(operations) != 1:
        return None
    operation = operations[0]
    planner = _Planner(schema, document, operation)
    fields = tuple(planner.selections(operation.selection_set, schema.get_root_type(operation.operation), None))
    return Plan(fields, planner.introspects)


class Refusal(KehuError):
    """A document refused before execution, with extra ``extensions`` for the client."""

    def __init__(self, code: str, message_en: str, message_zh: str, node: FieldNode | None = None,
                 extensions: dict[str, Any] | None = None) -> None:
        super().__init__(code, message_en, message_zh)
        self.node = node
        self.extensions = extensions or {}

    def error(self) -> GraphQLError:
        return GraphQLError(self.message_en, self.node, original_error=self,
                            extensions={"code": self.code, **self.extensions})


def cost_of(fields: tuple[_Node, ...], variables: Mapping[str, Any], max_page: int) -> int:
    """The operation's cost; raises Refusal for a page size over ``max_page``."""
    total = 0
    for field in fields:
        multiplier = field.multiplier
        if field.page is not None:
            size = field.page.value(variables)
            if size is not None:
                if size > max_page:
                    raise Refusal("PAGE_SIZE_TOO_LARGE",
                                  f"{field.page.argument} of {field.node.name.value} is {size}; at most {max_page}",
                                  f"{field.node.name.value} 的 {field.page.argument} 为 {size}，最多 {max_page}",
                                  field.node, {"maxPageSize": max_page})
                if field.paged:
                    multiplier = max(size, 0)
        total += field.own + (multiplier * cost_of(field.children, variables, max_page) if field.children else 0)
    return total


class PlanCache:
    """Plans by (document text, operation name), for one schema; bounded like the other caches."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.plans: dict[tuple[str, str | None], Plan | None] = {}

    def get(self, schema: GraphQLSchema, query: str, document: DocumentNode, operation_name: str | None) -> Plan | None:
        key = (query, operation_name)
        try:
            return self.plans[key]
        except KeyError:
            pass
        if len(self.plans) >= self.maxsize:
            self.plans.pop(next(iter(self.plans)))
        found = self.plans[key] = plan(schema, document, operation_name)
        return found


# --- The expanded size of a document --------------------------------------------------------

def _own_selections(selection_set: SelectionSetNode) -> tuple[int, list[str]]:
    """The selections written in one definition (fields, inline fragments, spreads, at any depth)
    and the names of the fragments it spreads, once per spread; iterative, so deep documents
    cannot exhaust the stack."""
    count = 0
    spreads: list[str] = []
    pending = [selection_set]
    while pending:
        for selection in pending.pop().selections:
            count += 1
            if isinstance(selection, FragmentSpreadNode):
                spreads.append(selection.name.value)
            elif selection.selection_set is not None:  # a field with sub-fields, an inline fragment
                pending.append(selection.selection_set)
    return count, spreads


def _too_large(max_fields: int) -> KehuError:
    return KehuError("QUERY_TOO_LARGE",
                     f"the document selects more than {max_fields} fields once its fragments are expanded",
                     f"展开片段后，文档选择的字段超过 {max_fields} 个")


def check_expanded_size(document: DocumentNode, max_fields: int) -> int:
    """The number of selections every definition of the document makes once each fragment spread
    is replaced by its fragment, summed; raises QUERY_TOO_LARGE above ``max_fields``.

    Validation rules, the depth limiter and the cost planner all walk documents with fragments
    expanded: ``fragment F0 on Query { ...F1 ...F1 }`` doubles their work per level, so 876 bytes
    could hold the event loop for minutes. Here each fragment's expanded size is computed once
    (memoised, in dependency order), in time linear in the document, stopping at the bound.
    """
    own: dict[str, tuple[int, list[str]]] = {}
    operations: list[tuple[int, list[str]]] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            name = definition.name.value
            if name in own:  # validation would expand the last one: refused, nothing to guess
                raise KehuError("GRAPHQL_VALIDATION_FAILED", f"There can be only one fragment named '{name}'.",
                                f"片段 {name} 重复定义")
            own[name] = _own_selections(definition.selection_set)
        elif isinstance(definition, OperationDefinitionNode):
            operations.append(_own_selections(definition.selection_set))
    sizes: dict[str, int] = {}
    total = 0
    for start in own:
        if start in sizes:
            continue
        path, on_path = [start], {start}
        stack = [iter(own[start][1])]
        while stack:
            for child in stack[-1]:
                if child in own and child not in sizes:
                    if child in on_path:
                        raise KehuError("GRAPHQL_VALIDATION_FAILED", f"fragment {child} spreads itself",
                                        f"片段 {child} 引用了自身")
                    path.append(child)
                    on_path.add(child)
                    stack.append(iter(own[child][1]))
                    break
            else:  # every fragment this one spreads is sized: size it
                name = path.pop()
                on_path.discard(name)
                stack.pop()
                count, spreads = own[name]
                size = count + sum(sizes.get(child, 0) for child in spreads)  # unknown: validation's to report
                if size > max_fields:
                    raise _too_large(max_fields)
                sizes[name] = size
                total += size
    for count, spreads in operations:
        total += count + sum(sizes.get(child, 0) for child in spreads)
    if total > max_fields:
        raise _too_large(max_fields)
    return total


@lru_cache(maxsize=CACHE_SIZE)
def _parse_bounded(query: str, max_tokens: int, max_fields: int) -> DocumentNode:
    """Parsed and size-checked once per document text (a refusal is not cached: it raises)."""
    document = parse(query, max_tokens=max_tokens)
    check_expanded_size(document, max_fields)
    return document


class DocumentGate:
    """What every document passes before execution, for one schema: a byte bound before parsing,
    parsing with a token limit (graphql-core's ``max_tokens``), the expanded-size bound before
    anything else walks the document, validation with kehu's limit rules added (depth, aliases,
    one credential attempt), then page sizes, cost and introspection, and the cost charged to the
    caller's rate limits. Parsing, validation and the cost plan are cached per document text.

    Called by the schema in place of Strawberry's extension hooks: the hooks' per-request set-up
    (a context manager per phase and extension, found by introspection) cost more than the checks
    on a cached document.
    """

    def __init__(self, settings: Settings, extra_rules: tuple[type[ASTValidationRule], ...] = ()) -> None:
        self.max_tokens = settings.graphql_max_tokens
        self.max_bytes = settings.graphql_max_document_bytes
        self.max_fields = settings.graphql_max_expanded_fields
        self.max_cost = settings.graphql_max_cost
        self.max_page = settings.page_size_max
        self.limiter: CostLimiter | None = cost_limiter(settings)
        # Built once: the validation cache is keyed on the document text for this gate's rules.
        self.rules: tuple[type[ASTValidationRule], ...] = (
            *specified_rules,
            *(coded_rule(r, "QUERY_TOO_DEEP")
              for r in QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules),
            *(coded_rule(r, "TOO_MANY_ALIASES")
              for r in MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules),
            OneCredentialAttempt,
            *extra_rules,
        )
        self.validated: dict[str, list[GraphQLError]] = {}
        self.plans = PlanCache(CACHE_SIZE)

    def parse(self, query: str) -> DocumentNode:
        # At most 4 bytes a character: most documents need no encoding to know they fit.
        # surrogatepass: a lone surrogate (JSON allows "\ud800") is the parser's to refuse.
        if len(query) * 4 > self.max_bytes and (
                len(query) > self.max_bytes or len(query.encode("utf-8", "surrogatepass")) > self.max_bytes):
            raise KehuError(
                "DOCUMENT_TOO_LARGE",
                f"the GraphQL document is larger than {self.max_bytes} bytes",
                f"GraphQL 文档超过 {self.max_bytes} 字节",
            )
        return _parse_bounded(query, self.max_tokens, self.max_fields)

    async def validate(self, schema: GraphQLSchema, query: str, document: DocumentNode) -> list[GraphQLError]:
        try:
            return self.validated[query]
        except KeyError:
            pass
        if len(query) > INLINE_VALIDATION_CHARS:
            # Validation of a large document may take a good part of a second even within the
            # bounds (graphql-core stops comparing overlapping fields after its own budget): in a
            # thread, the event loop keeps answering other requests meanwhile.
            errors = await asyncio.to_thread(validate, schema, document, self.rules)
        else:
            errors = validate(schema, document, self.rules)
        if len(self.validated) >= CACHE_SIZE:
            self.validated.pop(next(iter(self.validated)))
        self.validated[query] = errors
        return errors

    async def check(self, execution: ExecutionContext) -> None:
        """Page sizes, introspection and cost of a valid document, for this caller and these
        variables; the cost is charged and reported in the answer's ``extensions``."""
        operation = self.plans.get(execution.schema._schema, execution.query or "", execution.graphql_document,
                                   execution.operation_name)
        if operation is None:
            return
        ctx = getattr(execution.context, "ctx", None)
        signed_in = ctx is not None and ctx.principal is not None
        if operation.introspects and not signed_in:
            raise Refusal("UNAUTHENTICATED", "sign in to introspect the schema", "请先登录再查询架构")
        cost = cost_of(operation.fields, execution.variables or {}, self.max_page)
        if cost > self.max_cost:
            raise Refusal("QUERY_TOO_COSTLY", f"the query costs {cost}; at most {self.max_cost} is allowed",
                          f"查询成本为 {cost}，上限为 {self.max_cost}", None,
                          {"cost": cost, "maxCost": self.max_cost})
        if self.limiter is not None and ctx is not None and cost > 0:
            retry_after = await self.limiter.charge(ctx, cost)
            if retry_after is not None:
                response = getattr(execution.context, "response", None)
                if response is not None:
                    response.status_code = 429
                    response.headers["Retry-After"] = str(retry_after)
                raise Refusal("RATE_LIMITED", f"rate limit reached; retry in {retry_after} s",
                              f"请求过于频繁，请 {retry_after} 秒后重试", None,
                              {"cost": cost, "retryAfter": retry_after})
        if cost:  # `{ __typename }` costs nothing and reports nothing
            execution.extensions_results["cost"] = cost

    async def admit(self, execution: ExecutionContext) -> list[GraphQLError]:
        """Validate ``execution``'s parsed document and check its cost: the errors that stop it,
        or an empty list."""
        assert execution.graphql_document is not None
        errors = await self.validate(execution.schema._schema, execution.query or "", execution.graphql_document)
        if not errors:
            try:
                await self.check(execution)
            except Refusal as refusal:
                errors = [refusal.error()]
        return errors
