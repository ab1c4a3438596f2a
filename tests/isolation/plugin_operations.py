"""The isolation suite for operations a vertical declares (``kehu_isolation_operations``, issue 18
point 1): each becomes an entry like those of tests/isolation/operations.py, and
``check_vertical_isolation`` drives them as two fresh tenants that both enabled the vertical over
the public GraphQL API: every operation as its owner, then every id-taking one with the other
tenant's ids, expecting an answer that shows nothing of them; every list must equal exactly what
its tenant made, and no answer may carry the other tenant's ids or marker.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from core.plugins.manager import VerticalRegistry
from core.tenancy import service as tenancy
from tests.isolation.operations import Op, pluck
from tests.support import PASSWORD, SYSTEM

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LOGIN = ("mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
         "{ accessToken errors { code } } }")
ENABLE = "mutation($v: String!) { verticalEnable(verticalId: $v) { vertical { id enabled } errors { code } } }"


def plugin_ops(registry: VerticalRegistry, vertical_id: str | None = None) -> tuple[Op, ...]:
    """The operations the loaded verticals (or one of them) declare, as isolation entries."""
    ops = []
    for definition in registry.definitions:
        if vertical_id is not None and definition.id != vertical_id:
            continue
        for declared in definition.isolation_operations:
            constants = dict(declared.variables)
            ops.append(Op(doc=declared.doc, ids=dict(declared.ids), makes=declared.makes, lists=declared.lists,
                          vars=(lambda actor, owner, ids, constants=constants: dict(constants))))
    return tuple(ops)


@dataclass
class _Tenant:
    slug: str
    mark: str
    token: str = ""
    owned: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class IsolationReport:
    calls: int = 0
    probes: int = 0
    leaks: list[str] = field(default_factory=list)


def _post(client: Any, doc: str, token: str, **variables: Any) -> dict:
    response = client.post("/graphql", json={"query": doc, "variables": variables},
                           headers={"authorization": f"Bearer {token}"} if token else {})
    assert response.status_code == 200, response.text[:500]
    body = response.json()
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    assert "INTERNAL_ERROR" not in codes and "GRAPHQL_VALIDATION_FAILED" not in codes, (doc, body)
    return body


def _new_tenant(client: Any, vertical_id: str, mark: str) -> _Tenant:
    tag = uuid.uuid4().hex[:8]
    tenant = _Tenant(slug=f"piso-{tag}", mark=f"{mark}{tag}")
    client.blocking_portal.call(partial(tenancy.create_tenant, SYSTEM, slug=tenant.slug, name=tenant.mark,
                                        admin=tenancy.TenantAdmin(username="admin", password=PASSWORD)))
    login = _post(client, LOGIN, "", t=tenant.slug, u="admin", p=PASSWORD)["data"]["login"]
    assert login["errors"] == [], login
    tenant.token = login["accessToken"]
    enabled = _post(client, ENABLE, tenant.token, v=vertical_id)["data"]["verticalEnable"]
    assert enabled["errors"] == [] and enabled["vertical"]["enabled"], enabled
    return tenant


def _root(body: dict) -> Any:
    return next(iter((body.get("data") or {}).values()), None)


def _refused(body: dict) -> bool:
    root = _root(body)
    if body.get("errors"):
        return True
    if root is None or root is False or root == []:
        return True
    return isinstance(root, dict) and bool(root.get("errors"))


def check_vertical_isolation(client: Any, registry: VerticalRegistry, vertical_id: str,
                             rounds: int = 2) -> IsolationReport:
    """Drive the vertical's declared operations as two tenants (see the module's docstring)."""
    ops = plugin_ops(registry, vertical_id)
    assert ops, f"vertical {vertical_id!r} declares no isolation operations"
    report = IsolationReport()
    a, b = _new_tenant(client, vertical_id, "甲"), _new_tenant(client, vertical_id, "乙")
    number = 0

    def leak_check(actor: _Tenant, other: _Tenant, body: dict, what: str) -> None:
        text = json.dumps(body, ensure_ascii=False)
        foreign = set(UUID_RE.findall(text)) & {i for ids in other.owned.values() for i in ids}
        if foreign or other.mark in text:
            report.leaks.append(f"{what}: {actor.slug} saw {sorted(foreign) or other.mark}")

    def call(op: Op, actor: _Tenant, owner: _Tenant, ids: dict[str, str]) -> dict:
        nonlocal number
        number += 1
        variables = {"mark": actor.mark, "n": number, **ids,
                     **(op.vars(actor, owner, ids) if op.vars else {})}  # type: ignore[arg-type]
        report.calls += 1
        return _post(client, op.doc, actor.token, **variables)

    for _ in range(rounds):
        for actor, other in ((a, b), (b, a)):
            for op in ops:
                if op.ids and not all(actor.owned.get(kind) for kind in op.ids.values()):
                    continue
                ids = {var: sorted(actor.owned[kind])[0] for var, kind in op.ids.items()}
                body = call(op, actor, actor, ids)
                leak_check(actor, other, body, op.name)
                root = _root(body)
                if op.makes and not _refused(body):
                    kind, path = op.makes
                    for made in pluck(root, path):
                        actor.owned.setdefault(kind, set()).add(str(made))
                if op.lists:
                    kind, path = op.lists
                    shown = {str(i) for i in pluck(root, path)}
                    if shown != actor.owned.get(kind, set()):
                        report.leaks.append(f"{op.name}: {actor.slug} lists {sorted(shown)}, "
                                            f"owns {sorted(actor.owned.get(kind, set()))}")
                if op.ids:
                    assert not _refused(body), (op.doc, body)  # the owner reaches its own
                    foreign = {var: sorted(other.owned[kind])[0] for var, kind in op.ids.items()
                               if other.owned.get(kind)}
                    if len(foreign) == len(op.ids):
                        report.probes += 1
                        probed = call(op, actor, other, foreign)
                        if not _refused(probed):
                            report.leaks.append(f"{op.name}: {actor.slug} reached {other.slug}'s {foreign}")
                        leak_check(actor, other, probed, f"{op.name} probe")
    return report
