"""One place where every GraphQL error gets its stable code, and unexpected ones are masked.

Masking happens here, at the HTTP edge, rather than in an extension: an exception raised by an
extension skips the other extensions' exit hooks, but every response passes through here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import structlog
from graphql import (
    GraphQLArgument,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLSyntaxError,
)
from litestar import Request, Response
from cross_web import HTTPException  # what Strawberry raises for a bad request body
from strawberry.http import GraphQLRequestData
from strawberry.utils.str_converters import to_camel_case

from core.errors import KehuError
from gateway.language import negotiate
from gateway.request_body import decode_body

MASKED_MESSAGE = "Internal error; quote the request id when reporting it"
MASKED_MESSAGE_ZH = "内部错误；报告问题时请提供请求编号（requestId）"
# graphql-core's guesses: "… Did you mean 'customer'?", "Did you mean the enum value 'TENANT'?",
# "Did you mean to use an inline fragment on 'X'?"; at the end of a message, or inside one
# ("… unknown field 'statu'. Did you mean 'status'? Found: …"). Names never hold a '?'.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")
# Strawberry refuses malformed HTTP bodies with plain text; the codes clients get instead.
_HTTP_CODES = {"Batching is not enabled": "BATCHING_DISABLED", "Unsupported content type": "UNSUPPORTED_CONTENT_TYPE"}
log = structlog.get_logger("kehu.graphql")


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, (KehuError, GraphQLError))


def error_code(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, KehuError):
        return original.code
    if error.extensions and "code" in error.extensions:
        return str(error.extensions["code"])
    if is_unexpected(error):
        return "INTERNAL_ERROR"
    if isinstance(error, GraphQLSyntaxError):
        # Strawberry's MaxTokensLimiter aborts the parser with a syntax error.
        return "TOO_MANY_TOKENS" if "tokens" in error.message else "GRAPHQL_PARSE_FAILED"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "BAD_REQUEST"


def strip_suggestions(message: str) -> str:
    """The message without graphql-core's guesses at names of the schema."""
    return _SUGGESTION.sub("", message) if "Did you mean" in message else message


# graphql-core's parse and validation messages (and the limiters' built on them) in zh-CN: the
# pattern of the English message, and its translation with the same named parts. A message no
# pattern fits still gets a Chinese lead ("查询无效" and its code) before the English text.
_ZH: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(pattern), zh) for pattern, zh in (
    (r"Cannot query field '(?P<f>[^']+)' on type '(?P<t>[^']+)'\.", "类型 '{t}' 上没有字段 '{f}'。"),
    (r"Field '(?P<f>[^']+)' argument '(?P<a>[^']+)' of type '(?P<t>[^']+)' is required, but it was not provided\.",
     "字段 '{f}' 缺少必填参数 '{a}'（类型 '{t}'）。"),
    (r"Argument '(?P<a>[^']+)' of type '(?P<t>[^']+)' is required, but it was not provided\.",
     "缺少必填参数 '{a}'（类型 '{t}'）。"),
    (r"Unknown argument '(?P<a>[^']+)' on field '(?P<f>[^']+)'\.", "字段 '{f}' 没有参数 '{a}'。"),
    (r"Unknown argument '(?P<a>[^']+)' on directive '(?P<d>[^']+)'\.", "指令 '{d}' 没有参数 '{a}'。"),
    (r"Variable '(?P<v>\$[^']+)' of required type '(?P<t>[^']+)' was not provided\.",
     "缺少必填变量 '{v}'（类型 '{t}'）。"),
    (r"Variable '(?P<v>\$[^']+)' of non-null type '(?P<t>[^']+)' must not be null\.",
     "变量 '{v}'（类型 '{t}'）不能为 null。"),
    (r"Variable '(?P<v>\$[^']+)' has invalid value(?: at (?P<at>\S+))?: (?P<why>.*)",
     "变量 '{v}' 的值无效{at_zh}：{why_zh}"),
    (r"Expected a value of non-null type '(?P<t>[^']+)' to be provided\.", "须提供非空类型 '{t}' 的值。"),
    (r"Expected value of non-null type '(?P<t>[^']+)' not to be None\.", "非空类型 '{t}' 的值不能为 null。"),
    (r"Expected value of type '(?P<t>[^']+)' not to include unknown field '(?P<f>[^']+)', found: .*",
     "输入类型 '{t}' 没有字段 '{f}'。"),
    (r"Expected value of type '(?P<t>[^']+)' to include required field '(?P<f>[^']+)', found: .*",
     "输入类型 '{t}' 缺少必填字段 '{f}'。"),
    (r"Variable '(?P<v>\$[^']+)' of type '(?P<t>[^']+)' used in position expecting type '(?P<e>[^']+)'\.",
     "变量 '{v}' 的类型 '{t}' 与此处要求的类型 '{e}' 不符。"),
    (r"Variable '(?P<v>\$[^']+)' is never used(?: in operation '[^']+')?\.", "变量 '{v}' 未被使用。"),
    (r"Variable '(?P<v>\$[^']+)' is not defined(?: by operation '[^']+')?\.", "变量 '{v}' 未定义。"),
    (r"Variable '(?P<v>\$[^']+)' cannot be non-input type '(?P<t>[^']+)'\.", "变量 '{v}' 不能是非输入类型 '{t}'。"),
    (r"There can be only one variable named '(?P<v>\$[^']+)'\.", "只能有一个名为 '{v}' 的变量。"),
    (r"Field '(?P<f>[^']+)' of type '(?P<t>[^']+)' must have a selection of subfields\.",
     "字段 '{f}'（类型 '{t}'）须选择子字段。"),
    (r"Field '(?P<f>[^']+)' must not have a selection since type '(?P<t>[^']+)' has no subfields\.",
     "字段 '{f}' 的类型 '{t}' 没有子字段，不能有选择集。"),
    (r"Field '(?P<f>[^']+)' of required type '(?P<t>[^']+)' was not provided\.", "缺少必填输入字段 '{f}'（类型 '{t}'）。"),
    (r"Field '(?P<f>[^']+)' is not defined by type '(?P<t>[^']+)'\.", "输入类型 '{t}' 没有字段 '{f}'。"),
    (r"Fields '(?P<f>[^']+)' conflict because (?P<why>.*)", "字段 '{f}' 相互冲突：{why}"),
    (r"Unknown type '(?P<t>[^']+)'\.", "未知类型 '{t}'。"),
    (r"Unknown fragment '(?P<n>[^']+)'\.", "未知片段 '{n}'。"),
    (r"Fragment '(?P<n>[^']+)' is never used\.", "片段 '{n}' 未被使用。"),
    (r"There can be only one fragment named '(?P<n>[^']+)'\.", "只能有一个名为 '{n}' 的片段。"),
    (r"Cannot spread fragment '(?P<n>[^']+)' within itself.*", "片段 '{n}' 不能展开自身。"),
    (r"Fragment (?:'(?P<n>[^']+)' )?cannot be spread here as objects of type '(?P<a>[^']+)' "
     r"can never be of type '(?P<b>[^']+)'\.", "片段不能在此展开：类型 '{a}' 的对象不可能是类型 '{b}'。"),
    (r"Unknown directive '(?P<d>@[^']+)'\.", "未知指令 '{d}'。"),
    (r"Directive '(?P<d>@[^']+)' may not be used on (?P<where>.+)\.", "指令 '{d}' 不能用于 {where}。"),
    (r"The directive '(?P<d>@[^']+)' can only be used once at this location\.", "指令 '{d}' 在此处只能使用一次。"),
    (r"There can be only one argument named '(?P<a>[^']+)'\.", "只能有一个名为 '{a}' 的参数。"),
    (r"There can be only one input field named '(?P<f>[^']+)'\.", "只能有一个名为 '{f}' 的输入字段。"),
    (r"This anonymous operation must be the only defined operation\.", "匿名操作须是文档中唯一的操作。"),
    (r"There can be only one operation named '(?P<n>[^']+)'\.", "只能有一个名为 '{n}' 的操作。"),
    (r"Unknown operation named '(?P<n>[^']+)'\.", "没有名为 '{n}' 的操作。"),
    (r"Must provide operation name if query contains multiple operations\.", "文档含多个操作时须提供操作名。"),
    (r"Must provide (?:a )?(?:query|document) string\.?", "须提供查询文本。"),
    (r"The (?P<op>\w+) operation is not supported by the schema\.|Schema is not configured to execute "
     r"(?P<op2>\w+) operation\.", "此架构不支持该类操作。"),
    (r"Int cannot represent non 32-bit signed integer value: (?P<v>.*)", "Int 须为 32 位有符号整数，收到 {v}"),
    (r"(?P<t>\w+) cannot represent (?:an? )?(?:non[- ]?[\w -]*|invalid [\w -]*) value: (?P<v>.*)",
     "{t} 类型不能表示值 {v}"),
    (r"(?P<t>\w+) cannot represent (?P<why>.*)", "{t} 类型不能表示该值（{why}）"),
    (r"Expected value of type '(?P<t>[^']+)', found (?P<v>.*?)(?:; (?P<why>.*))?",
     "应为 '{t}' 类型的值，收到 {v}{why_zh}"),
    (r"Value '(?P<v>[^']+)' does not exist in '(?P<t>[^']+)' enum\.", "枚举 '{t}' 中没有值 '{v}'。"),
    (r"Enum '(?P<t>[^']+)' cannot represent non-enum value: (?P<v>.*?)\.?", "枚举 '{t}' 不能表示非枚举值 {v}。"),
    (r"Maximum introspection depth exceeded", "内省查询嵌套过深"),
    (r"'(?P<n>[^']+)' exceeds maximum operation depth of (?P<d>\d+)", "'{n}' 超过最大查询深度 {d}"),
    (r"(?P<n>\d+) aliases found\. Allowed: (?P<m>\d+)", "别名 {n} 个，最多允许 {m} 个"),
    (r"Syntax Error: Document contains more than (?P<n>\d+) tokens\. Parsing aborted\.",
     "语法错误：文档超过 {n} 个词法单元，已停止解析。"),
    (r"Syntax Error: Expected (?P<e>.+?), found (?P<f>.+?)\.", "语法错误：此处应为 {e}，却是 {f}。"),
    (r"Syntax Error: Unexpected (?P<f>.+?)\.", "语法错误：意外的 {f}。"),
    (r"Syntax Error: Unterminated string\.", "语法错误：字符串未结束。"),
    (r"Syntax Error: (?P<why>.*)", "语法错误：{why}"),
))


def _zh_suggestion(suggestion: str) -> str:
    names = re.findall(r"'([^']*)'", suggestion)
    if "inline fragment" in suggestion:
        return f"是否想在 {'、'.join(repr(n) for n in names)} 上使用内联片段？"
    return f"是否想用 {'、'.join(chr(39) + n + chr(39) for n in names)}？" if names else ""


def translate_zh(message: str, code: str) -> str | None:
    """graphql-core's English ``message`` in zh-CN; None when no pattern fits it."""
    for pattern, zh in _ZH:
        match = pattern.fullmatch(message)
        if match:
            parts = {k: v or "" for k, v in match.groupdict().items()}
            why = parts.get("why", "")
            parts["why_zh"] = (translate_zh(why, code) or why) if why else ""
            if "Expected value" in pattern.pattern and why:
                parts["why_zh"] = "；" + parts["why_zh"]
            parts["at_zh"] = f"（位置 {parts['at']}）" if parts.get("at") else ""
            return zh.format(**parts)
    return None


def message_zh(message: str, code: str, *, suggestions: bool = True) -> str:
    """A parse or validation error's message in zh-CN: translated when a pattern fits; else a
    Chinese lead naming the code, then the English text. graphql-core's guesses, if kept, too."""
    found = _SUGGESTION.findall(message)
    core = _SUGGESTION.sub("", message).strip()
    zh = translate_zh(core, code)
    if zh is None:
        zh = f"查询无效（{code}）：{core}"
    if suggestions and found:
        zh += "".join(_zh_suggestion(s) for s in found)
    return zh


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        type_ = type_.of_type
    return type_


def _python_names(fields: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """A scope of input names: each field by its schema name and by its Python name."""
    scope: dict[str, tuple[str, Any]] = {}
    for name, field in fields.items():
        scope[name] = (name, field.type)
        definition = (field.extensions or {}).get("strawberry-definition")
        python_name = getattr(definition, "python_name", None)
        if python_name:
            scope.setdefault(python_name, (name, field.type))
    return scope


def input_path(field: str, arguments: Mapping[str, GraphQLArgument] | None = None,
               naming: Callable[[str], str] = to_camel_case) -> str:
    """A field path as core names it (``given_name``, ``contacts.0.given_name``, ``filter.text``)
    in the schema's input names (``givenName``, ``contacts.0.givenName``, ``filter.text``).

    Each step is looked up in the operation's ``arguments`` and the input objects below them (an
    ``input`` argument's fields stand at the top, as core leaves that wrapper out), by its Python
    or its schema name. List positions stay, and so do the steps inside a JSON value, or any the
    arguments do not name (a vertical's parameter key): those names are the client's own. Only
    when the arguments are not known is every step converted by the schema's ``naming``."""
    scope: dict[str, tuple[str, Any]] | None = None
    if arguments is not None:
        scope = _python_names(arguments)
        wrapper = arguments.get("input")
        if wrapper is not None and isinstance(_unwrap(wrapper.type), GraphQLInputObjectType):
            for name, found in _python_names(_unwrap(wrapper.type).fields).items():
                scope.setdefault(name, found)
    out: list[str] = []
    steps = field.split(".")
    for position, step in enumerate(steps):
        if step.isdigit() or not step:
            out.append(step)
            continue
        if scope is None:
            name, type_ = naming(step), None
        elif step in scope:
            name, type_ = scope[step]
        else:  # not an input of this operation: a key the client chose, kept as sent
            out.extend(steps[position:])
            break
        out.append(name)
        named = _unwrap(type_)
        if isinstance(named, GraphQLInputObjectType):
            scope = _python_names(named.fields)
        elif named is None or (isinstance(named, GraphQLScalarType) and named.name == "JSON"):
            # Nothing known below (no arguments to look in), or keys of a JSON value: the client's own.
            if named is not None:
                out.extend(steps[position + 1:])
                break
            scope = None
        else:
            out.extend(steps[position + 1:])  # below a scalar or enum: nothing of the schema
            break
    return ".".join(out)


def _root_arguments(schema: GraphQLSchema | None, error: GraphQLError) -> Mapping[str, GraphQLArgument] | None:
    """The arguments of the root field an error was raised in (its path has one step)."""
    if schema is None or not error.nodes or not error.path or len(error.path) != 1:
        return None
    name = getattr(getattr(error.nodes[0], "name", None), "value", None)
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None and name in root.fields:
            return root.fields[name].args
    return None


def shape_error(error: GraphQLError, request_id: str | None, language: str = "en", *,
                suggestions: bool = True, schema: GraphQLSchema | None = None) -> dict[str, Any]:
    """The error as the client sees it: a code always, never an internal message; no guessed field
    names unless ``suggestions`` (callers who may not introspect must not learn the schema so);
    the message in the caller's language; ``field`` in the schema's input names."""
    formatted = error.formatted
    if not suggestions:
        formatted["message"] = strip_suggestions(formatted["message"])
    extensions = dict(formatted.get("extensions") or {})
    code = extensions["code"] = error_code(error)
    if request_id:
        extensions["requestId"] = request_id
    zh = language.lower().startswith("zh")
    if is_unexpected(error):
        formatted = {"message": MASKED_MESSAGE_ZH if zh else MASKED_MESSAGE,
                     **{k: v for k, v in formatted.items() if k in ("locations", "path")}}
    elif isinstance(error.original_error, KehuError):
        formatted["message"] = error.original_error.message(language)
        if error.original_error.field:
            extensions["field"] = input_path(error.original_error.field, _root_arguments(schema, error))
        customer_id = getattr(error.original_error, "customer_id", None)
        if customer_id is not None:  # e.g. the customer a DUPLICATE_IDENTIFIER collides with
            extensions["customerId"] = str(customer_id)
    elif zh:
        formatted["message"] = message_zh(formatted["message"], code, suggestions=suggestions)
    formatted["extensions"] = extensions
    return formatted


def log_errors(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            log.error(
                "graphql.unexpected_error",
                path=error.path,
                error=repr(error.original_error),
                exc_info=error.original_error,
            )
        else:  # a coded error is logged with its (English) text, whatever graphql-core made of it
            original = error.original_error
            log.info("graphql.request_error", code=error_code(error),
                     message=original.message_en if isinstance(original, KehuError) else str(error.message))


def http_error(error: HTTPException, request_id: str | None, language: str = "en") -> Response:
    """Strawberry's plain-text refusal of a request body, as a coded GraphQL error; logged."""
    code = getattr(error, "code", None) or _HTTP_CODES.get(
        error.reason, "BAD_REQUEST" if error.status_code == 400 else "HTTP_ERROR")
    log.info("graphql.request_refused", code=code, status=error.status_code, message=error.reason)
    extensions: dict[str, Any] = {"code": code}
    if request_id:
        extensions["requestId"] = request_id
    message = f"请求无效（{code}）：{error.reason}" if language.lower().startswith("zh") else error.reason
    return Response({"data": None, "errors": [{"message": message, "extensions": extensions}]},
                    status_code=error.status_code)


class CodedHTTPErrors:
    """Mixed into the GraphQL controller: a batch (a JSON list) or a malformed body is refused
    with a code like any other error. Batching stays off: one request, one operation."""

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        # The database could not be reached: a 503 with Retry-After, so clients and proxies retry
        # rather than treat the answer as final (R5). Nothing ran to completion.
        errors = response_data.get("errors") if isinstance(response_data, dict) else None
        if errors and any((e.get("extensions") or {}).get("code") == "DATABASE_UNAVAILABLE" for e in errors):
            sub_response.status_code = 503
            sub_response.headers["retry-after"] = "1"
        return super().create_response(response_data, sub_response)  # type: ignore[misc]

    def encode_json(self, data: object) -> bytes:
        # msgspec, as Litestar encodes every other answer: several times faster than json.dumps on
        # a page, and Chinese text goes out as UTF-8 rather than six-byte escapes.
        return msgspec.json.encode(data)

    def decode_json(self, data: str | bytes) -> object:
        # Strawberry's json.loads answers invalid UTF-8, a scalar or a deep body with a 500.
        return decode_body(data)

    async def parse_http_body(self, request: Any) -> Any:
        """A plain JSON POST (what integrators and the console send) read directly: Strawberry's
        parsing reads the content type through an ``email.message.Message`` and walks the headers
        for a streaming ``Accept``, which cost more than the rest of a small request's parsing.
        Anything else (a streaming Accept, another content type, a batch, a malformed field) goes
        through Strawberry's own parsing, which answers it as before."""
        litestar_request = request.request
        accept = litestar_request.headers.get("accept", "")
        if (litestar_request.method != "POST" or litestar_request.content_type[0] != "application/json"
                or "multipart" in accept or "event-stream" in accept):
            return await super().parse_http_body(request)  # type: ignore[misc]
        data = self.parse_json(await litestar_request.body())  # type: ignore[attr-defined]
        if isinstance(data, dict):
            query, variables, extensions = data.get("query"), data.get("variables"), data.get("extensions")
            if isinstance(query, str) and isinstance(variables, dict | None) and isinstance(extensions, dict | None):
                return GraphQLRequestData(query=query, variables=variables, operation_name=data.get("operationName"),
                                          extensions=extensions, protocol="http")
        return await super().parse_http_body(request)  # type: ignore[misc]

    async def execute_request(self, request: Request, context: Any, root_value: Any) -> Response:
        try:
            return await self.run(request, context=context, root_value=root_value)  # type: ignore[attr-defined]
        except HTTPException as error:
            return http_error(error, request.scope.get("state", {}).get("request_id"),
                              negotiate(request.headers.get("accept-language", "")))
