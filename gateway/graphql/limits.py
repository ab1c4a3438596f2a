"""Abuse limits on every GraphQL document, checked before execution.

The depth and alias rules are built once per schema: Strawberry's validation cache is keyed on
the rule classes, so building a limiter per request would silently defeat the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from core.errors import KehuError
from core.settings import Settings

CACHE_SIZE = 1024


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


class DocumentSizeLimit(SchemaExtension):
    """Refuse an oversize document before it is even parsed."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        if len(query.encode("utf-8")) > self.max_bytes:
            raise KehuError(
                "DOCUMENT_TOO_LARGE",
                f"the GraphQL document is larger than {self.max_bytes} bytes",
                f"GraphQL 文档超过 {self.max_bytes} 字节",
            )
        yield


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Extension factories for the schema; the rule classes inside are made here, once."""
    rules = [
        *(coded_rule(r, "QUERY_TOO_DEEP") for r in QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules),
        *(coded_rule(r, "TOO_MANY_ALIASES") for r in MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules),
    ]
    return [
        partial(DocumentSizeLimit, settings.graphql_max_document_bytes),
        partial(MaxTokensLimiter, max_token_count=settings.graphql_max_tokens),
        partial(ParserCache, maxsize=CACHE_SIZE),
        partial(AddValidationRules, rules),
        partial(ValidationCache, maxsize=CACHE_SIZE),
    ]
