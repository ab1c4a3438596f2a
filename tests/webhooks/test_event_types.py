"""Issue 17 point 5: webhook endpoints subscribe only to event types kehu emits; the list of them
(core/webhooks/events.py) keeps in step with every ``outbox.add`` of the code, and
docs/webhooks.md documents each one and the GraphQL operations integrators call."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

from core.errors import KehuError
from core.webhooks import events, service
from tests.webhooks.support import ctx_of

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")


# --- what the code emits, read from its source ------------------------------------------------------

class Unresolved(Exception):
    pass


class _Module:
    """A module's source with enough lookups to expand an event-type expression to its values."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.parents = {child: node for node in ast.walk(self.tree) for child in ast.iter_child_nodes(node)}

    def function_of(self, node: ast.AST) -> ast.AsyncFunctionDef | ast.FunctionDef | None:
        while node in self.parents:
            node = self.parents[node]
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                return node
        return None

    def module_constant(self, name: str) -> set[str]:
        for stmt in self.tree.body:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and target.id == name:
                        return _values(stmt.value, self, None)
                    if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
                        for t, v in zip(target.elts, stmt.value.elts, strict=True):
                            if isinstance(t, ast.Name) and t.id == name:
                                return _values(v, self, None)
            if isinstance(stmt, ast.ImportFrom) and stmt.module and any(
                    (a.asname or a.name) == name for a in stmt.names):
                original = next(a.name for a in stmt.names if (a.asname or a.name) == name)
                return _module(ROOT / (stmt.module.replace(".", "/") + ".py")).module_constant(original)
        raise Unresolved(f"{self.path.name}: module name {name}")


_modules: dict[Path, _Module] = {}


def _module(path: Path) -> _Module:
    if path not in _modules:
        _modules[path] = _Module(path)
    return _modules[path]


def _name_in_function(name: str, function: ast.AST, module: _Module) -> set[str] | None:
    """Values a local name takes: from its assignments, a ``for`` over literal tuples, or, for a
    parameter, from the arguments of every call of the function in its module or its package."""
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found |= _values(node.value, module, function)
        if isinstance(node, ast.For) and isinstance(node.target, ast.Tuple) and isinstance(node.iter, ast.Tuple | ast.List):
            for position, element in enumerate(node.target.elts):
                if isinstance(element, ast.Name) and element.id == name:
                    for item in node.iter.elts:
                        if not isinstance(item, ast.Tuple):
                            raise Unresolved(f"{module.path.name}: for over {ast.unparse(node.iter)}")
                        found |= _values(item.elts[position], module, function)
    if found:
        return found
    assert isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
    params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    if name not in params and name not in [a.arg for a in function.args.kwonlyargs]:
        return None
    position = params.index(name) if name in params else None
    # The calls: in its module, and in the modules of its package (a helper shared by a package's use cases).
    for caller in [module, *(_module(p) for p in sorted(module.path.parent.glob("*.py")) if p != module.path)]:
        for call in ast.walk(caller.tree):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == function.name:
                argument = next((k.value for k in call.keywords if k.arg == name), None)
                if argument is None and position is not None and position < len(call.args):
                    argument = call.args[position]
                if argument is None:
                    raise Unresolved(f"{caller.path.name}: a call of {function.name} without {name}")
                found |= _values(argument, caller, caller.function_of(call))
    if not found:
        raise Unresolved(f"{module.path.name}: no call of {function.name}")
    return found


def _values(node: ast.expr, module: _Module, function: ast.AST | None) -> set[str]:
    """Every string an expression can be, or Unresolved when this reader cannot tell."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _values(node.body, module, function) | _values(node.orelse, module, function)
    if isinstance(node, ast.JoinedStr):
        parts = [_values(v.value if isinstance(v, ast.FormattedValue) else v, module, function) for v in node.values]
        return {"".join(p) for p in itertools.product(*parts)}
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "replace"
            and all(isinstance(a, ast.Constant) for a in node.args)):
        old, new = (a.value for a in node.args)
        return {v.replace(old, new) for v in _values(node.func.value, module, function)}
    if isinstance(node, ast.Name):
        if function is not None:
            local = _name_in_function(node.id, function, module)
            if local is not None:
                return local
        return module.module_constant(node.id)
    raise Unresolved(f"{module.path.name}:{node.lineno}: {ast.unparse(node)}")


def emitted_event_types() -> dict[str, list[str]]:
    """Event type -> where it is emitted, for every ``outbox.add(uow, <type>, …)`` of core/ and plugins/."""
    found: dict[str, list[str]] = {}
    for path in sorted([*(ROOT / "core").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]):
        module = _module(path)
        for node in ast.walk(module.tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "outbox"):
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                try:
                    values = _values(node.args[1], module, module.function_of(node))
                except Unresolved as exc:
                    raise AssertionError(f"{where}: cannot tell which event types this emits ({exc}); emit a "
                                         "literal name or a name built from module constants") from None
                for value in values:
                    found.setdefault(value, []).append(where)
    return found


def test_every_event_type_the_code_emits_is_in_the_list():
    """Issue 17 point 5: the list endpoints are checked against is the code's own: an outbox event
    missing from core/webhooks/events.py (so refused to subscribers) fails here."""
    emitted = emitted_event_types()
    assert len(emitted) > 60  # the reader found them all, dynamic ones included
    assert {"customer.created", "archive.under_check", "job.succeeded", "assessment.updated", "consent.withdrawn",
            "access_request.approved", "privacy.request_overdue", "vertical.disabled"} <= set(emitted)
    missing = {name: where for name, where in emitted.items() if name not in events.NAMES}
    assert not missing, f"add these to core/webhooks/events.py and docs/webhooks.md: {missing}"
    stale = events.NAMES - set(emitted) - {"customer.created"}  # imports insert customer.created rows in bulk
    assert not stale, f"listed but never emitted: {sorted(stale)}"


def test_every_event_type_is_documented_with_its_payload():
    """Issue 17 point 5: docs/webhooks.md documents every event type (customer.* included) with
    what data.type and data.changed hold."""
    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([a-z_]+\.[a-z_]+)` \|.*$", DOCS, re.M)}
    missing = sorted(events.NAMES - set(rows))
    assert not missing, f"document these in docs/webhooks.md's event table: {missing}"
    assert set(rows) <= events.NAMES, sorted(set(rows) - events.NAMES)
    for e in events.EVENT_TYPES:
        assert f"`{e.data_type}`" in rows[e.name], (e.name, rows[e.name])


def test_the_guide_shows_graphql_operations_not_python_calls():
    """Issue 17 point 5: integrators call GraphQL; the guide names every webhook operation of the
    schema and shows no internal Python call."""
    from core.settings import load_settings
    from gateway.graphql.schema import build_schema

    schema = build_schema(load_settings())._schema
    operations = [name for root in (schema.query_type, schema.mutation_type) for name in root.fields
                  if name.startswith("webhook")]
    assert len(operations) >= 7
    for name in operations:
        assert re.search(rf"\b{name}\b", DOCS), f"docs/webhooks.md does not show {name}"
    assert "await service." not in DOCS and "from core.webhooks import service" not in DOCS
    assert "(ctx, " not in DOCS


# --- refused at registration -----------------------------------------------------------------------

async def test_an_unknown_event_type_is_refused_at_creation_naming_it(tenant):
    """Issue 17 point 5: a misspelt type would never fire: it is refused with a code naming it."""
    with pytest.raises(KehuError) as refused:
        await service.create_endpoint(ctx_of(tenant), "https://example.com/hook", ["customer.created", "customer.create"])
    assert refused.value.code == "WEBHOOK_EVENT_UNKNOWN" and refused.value.field == "event_types"
    assert "customer.create'" in refused.value.message("en") and "customer.create'" in refused.value.message("zh")
    assert await service.list_endpoints(ctx_of(tenant)) == []


async def test_an_unknown_event_type_is_refused_at_update_and_changes_nothing(tenant):
    """Issue 17 point 5: the same check when an endpoint's types change."""
    endpoint, _ = await service.create_endpoint(ctx_of(tenant), "https://example.com/hook", ["customer.updated"])
    with pytest.raises(KehuError) as refused:
        await service.update_endpoint(ctx_of(tenant), endpoint.id, event_types=["customer.erased", "customer.deletd"])
    assert refused.value.code == "WEBHOOK_EVENT_UNKNOWN" and "customer.deletd" in refused.value.message("en")
    assert (await service.get_endpoint(ctx_of(tenant), endpoint.id)).event_types == ("customer.updated",)


@pytest.mark.parametrize("types", [["*"], sorted(events.NAMES)])
async def test_every_listed_type_and_the_wildcard_are_accepted(tenant, types):
    """Issue 17 point 5: every listed type (all customer.* among them) and "*" may be subscribed to."""
    endpoint, _ = await service.create_endpoint(ctx_of(tenant), "https://example.com/hook", types)
    assert list(endpoint.event_types) == types


async def test_graphql_answers_the_coded_error_naming_the_type(settings, seeded):
    """Issue 17 point 5: over GraphQL, the payload's errors carry WEBHOOK_EVENT_UNKNOWN."""
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app
    from tests.gateway.test_identity_api import gql, login

    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})
    async with AsyncTestClient(create_app(relaxed)) as client:
        token = (await login(client))["accessToken"]
        body = (await gql(client, 'mutation { webhookEndpointCreate(url: "https://example.com/h", '
                                  'eventTypes: ["customer.creatd"]) { endpoint { id } errors { code message } } }',
                          token)).json()
    payload = body["data"]["webhookEndpointCreate"]
    assert payload["endpoint"] is None and payload["errors"][0]["code"] == "WEBHOOK_EVENT_UNKNOWN", body
    assert "customer.creatd" in payload["errors"][0]["message"]


# --- a vertical's own event types ------------------------------------------------------------------

def _desk(events_declared):
    from core.plugins import VerticalInfo
    from core.plugins.testing import plugin

    return plugin(kehu_vertical_info=lambda: VerticalInfo(id="desk", name_zh="服务台", name_en="Desk", version="1.0"),
                  kehu_event_types=lambda: events_declared)


async def test_a_verticals_declared_event_types_can_be_subscribed_to_over_graphql(settings, seeded):
    """Issue 18 point 2 (the outbox as a vertical's service): the event types a vertical declares
    with kehu_event_types are accepted by webhookEndpointCreate/Update like core's; an undeclared
    one of the same vertical is refused WEBHOOK_EVENT_UNKNOWN."""
    from litestar.testing import AsyncTestClient

    from core.plugins import EventType
    from core.plugins.testing import make_registry
    from gateway.app import create_app
    from tests.gateway.test_identity_api import gql, login

    registry = make_registry(("desk", _desk([EventType("desk.ticket_added", "desk_ticket", "subject",
                                                       "a ticket is added")])))
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})
    create = ('mutation($t: [String!]!) { webhookEndpointCreate(url: "https://example.com/h", eventTypes: $t) '
              '{ endpoint { id eventTypes } errors { code } } }')
    async with AsyncTestClient(create_app(relaxed, registry=registry)) as client:
        token = (await login(client))["accessToken"]
        made = (await gql(client, create, token, t=["desk.ticket_added", "customer.created"])).json()
        refused = (await gql(client, create, token, t=["desk.ticket_closed"])).json()
    assert made["data"]["webhookEndpointCreate"]["endpoint"]["eventTypes"] == ["customer.created", "desk.ticket_added"]
    assert refused["data"]["webhookEndpointCreate"]["errors"][0]["code"] == "WEBHOOK_EVENT_UNKNOWN"


def test_a_verticals_event_type_must_carry_its_id():
    """Issue 18 point 2: a vertical's event types start with its id, like its permissions."""
    from core.plugins import ContractError, EventType, PluginError
    from core.plugins.testing import make_registry

    with pytest.raises(PluginError, match="event type 'ticket.added' must start with 'desk'"):
        make_registry(("desk", _desk([EventType("ticket.added", "desk_ticket", "", "never")])))
    with pytest.raises(ContractError, match="dotted lowercase"):
        EventType("Desk Ticket", "desk_ticket", "", "never")
