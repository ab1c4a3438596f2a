"""Abuse limits on every GraphQL document, checked before execution, and the parse/validation caches.

The depth and alias rules are built once per schema: Strawberry's validation cache is keyed on
the rule classes, so building a limiter per request would silently defeat the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    MaxAliasesLimiter,
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


class DocumentLimits(ParserCache):
    """Strawberry's parser cache, refusing oversize documents before parsing and parsing with a
    token limit (graphql-core's ``max_tokens``, what Strawberry's MaxTokensLimiter sets).

    One extension instead of three: each extension costs hook dispatch on every request.
    """

    def __init__(self, max_tokens: int, max_bytes: int, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.max_tokens = max_tokens
        self.max_bytes = max_bytes

    def on_parse(self) -> Iterator[None]:
        query = self.execution_context.query or ""
        if len(query.encode("utf-8")) > self.max_bytes:
            raise KehuError(
                "DOCUMENT_TOO_LARGE",
                f"the GraphQL document is larger than {self.max_bytes} bytes",
                f"GraphQL 文档超过 {self.max_bytes} 字节",
            )
        self.execution_context.parse_options["max_tokens"] = self.max_tokens
        yield from super().on_parse()


class LimitedValidation(ValidationCache):
    """Strawberry's validation cache, validating with kehu's limit rules added.

    One extension instead of AddValidationRules + ValidationCache: each extension costs a few
    microseconds of hook dispatch per request, on every request.
    """

    def __init__(self, rules: tuple[type[ASTValidationRule], ...], maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.rules = rules

    def on_operation(self) -> Iterator[None]:
        self.execution_context.validation_rules = (*self.execution_context.validation_rules, *self.rules)
        yield


def limit_extensions(settings: Settings, extra_rules: tuple[type[ASTValidationRule], ...] = ()
                     ) -> list[Callable[[], SchemaExtension]]:
    """Extension factories for the schema; the rule classes inside are made here, once."""
    rules = (
        *(coded_rule(r, "QUERY_TOO_DEEP") for r in QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules),
        *(coded_rule(r, "TOO_MANY_ALIASES") for r in MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules),
        *extra_rules,
    )
    return [
        partial(DocumentLimits, settings.graphql_max_tokens, settings.graphql_max_document_bytes, CACHE_SIZE),
        partial(LimitedValidation, rules, CACHE_SIZE),
    ]
