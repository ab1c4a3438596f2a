"""The isolation state machine: two fresh tenants per example drive every entry of
tests/isolation/operations.py over HTTP, and a model of what each owns judges every answer.

A leak is any answer to one tenant that shows the other's ids or marker, any list that differs
from the model, or any change to a tenant made with another tenant's token. The app runs in the
sync test client's own thread and loop; tenants are provisioned there through its portal.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from functools import partial
from typing import Any

from hypothesis import HealthCheck, Phase
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from core.tenancy import service as tenancy
from tests.isolation.operations import OPS, PARENT, SNAPSHOT, SNAPSHOT_LISTS, Op, Tenant, pluck
from tests.support import PASSWORD, SYSTEM

UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
LOGIN = ("mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) "
         "{ accessToken refreshToken errors { code } } }")
USER_CREATE = ("mutation($u: String!, $d: String!, $roles: [ID!]!) { userCreate(input: {username: $u, "
               'displayName: $d, password: "%s", roleIds: $roles}) { user { id } errors { code } } }' % PASSWORD)


class Leak(AssertionError):
    """One tenant saw or changed another tenant's data."""

    def __init__(self, message: str) -> None:
        if RUN is not None:  # recorded, so a test can tell a leak from what Hypothesis makes of it
            RUN.leaks.append(message)
            message += f" (after {RUN.history[-4:]})"
        super().__init__(message)


class Run:
    """The running app for one test, and counters the test reports on."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.steps = 0
        self.probes = 0
        self.called: set[str] = set()
        self.history: list[str] = []
        self.leaks: list[str] = []
        self.numbers = itertools.count(1)

    def post(self, doc: str, token: str | None = None, **variables: Any) -> dict:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        response = self.client.post("/graphql", json={"query": doc, "variables": variables}, headers=headers)
        assert response.status_code == 200, (response.status_code, response.text[:500])
        body = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert "INTERNAL_ERROR" not in codes and "GRAPHQL_VALIDATION_FAILED" not in codes, (doc, variables, body)
        return body

    def login(self, slug: str, username: str, password: str = PASSWORD) -> dict:
        result = self.post(LOGIN, t=slug, u=username, p=password)["data"]["login"]
        assert result["errors"] == [], result
        return result

    def new_tenant(self, mark: str) -> Tenant:
        tag = uuid.uuid4().hex[:8]
        tenant = Tenant(slug=f"iso-{tag}", mark=f"{mark}{tag}", admin_name=f"admin-{tag}", spare_name=f"spare-{tag}")
        create = partial(tenancy.create_tenant, SYSTEM, slug=tenant.slug, name=tenant.mark,
                         departments=(f"{tenant.mark}部",),
                         admin=tenancy.TenantAdmin(username=tenant.admin_name, password=PASSWORD))
        self.client.blocking_portal.call(create)
        tenant.token = self.login(tenant.slug, tenant.admin_name)["accessToken"]
        admin_role = next(r["id"] for r in self.post("{ roles { id name } }", tenant.token)["data"]["roles"]
                          if r["name"] == "系统管理员")
        for name, roles in ((f"approver-{tag}", [admin_role]), (tenant.spare_name, [])):
            made = self.post(USER_CREATE, tenant.token, u=name, d=f"{tenant.mark}{name}", roles=roles)
            assert made["data"]["userCreate"]["errors"] == [], made
        tenant.approver_token = self.login(tenant.slug, f"approver-{tag}")["accessToken"]
        return tenant


RUN: Run | None = None


def _ids_in(value: Any) -> set[str]:
    return set(UUID_RE.findall(json.dumps(value, ensure_ascii=False)))


def _refused(root: Any) -> bool:
    if root is None or root is False or root == []:
        return True
    return isinstance(root, dict) and "errors" in root and bool(root["errors"])


def _comparable(snapshot: dict) -> dict:
    """A snapshot without what sweeps change on their own (their jobs)."""
    return {**snapshot, "jobs": [j for j in snapshot["jobs"] if not j["requestedBy"].startswith("job:")]}


class IsolationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        assert RUN is not None
        self.run = RUN
        self.a, self.b = self.run.new_tenant("甲"), self.run.new_tenant("乙")
        for tenant in (self.a, self.b):
            data = self._read(tenant)
            for kind, path in SNAPSHOT_LISTS.items():
                tenant.owned[kind] = set(pluck(data, path))
            tenant.seen |= _ids_in(data)
        shared = self.a.seen & self.b.seen
        if shared:
            raise Leak(f"both tenants see {sorted(shared)} from the start")
        self.last = {t.slug: self.check_reads(t, o) for t, o in ((self.a, self.b), (self.b, self.a))}

    # Reading and judging

    def _read(self, tenant: Tenant) -> dict:
        body = self.run.post(SNAPSHOT, tenant.token)
        assert not body.get("errors"), body
        return body["data"]

    def _scan(self, reader: Tenant, owner: Tenant, body: dict, what: str, exempt: set[str] = frozenset()) -> None:
        """``reader`` must see nothing of ``owner``'s: no id it was not itself told, no marker."""
        foreign = (_ids_in(body.get("data")) & owner.seen) - exempt
        if foreign or owner.mark in json.dumps(body, ensure_ascii=False):
            raise Leak(f"{what}: tenant {reader.mark} saw {owner.mark}'s data {sorted(foreign)}: {body}")

    def check_reads(self, tenant: Tenant, other: Tenant) -> dict:
        data = self._read(tenant)
        self._scan(tenant, other, {"data": data}, "reads")
        for job in data["jobs"]:  # sweeps start jobs of their own in every tenant now and then
            if job["requestedBy"].startswith("job:"):
                tenant.add("job", job["id"])
        for kind, path in SNAPSHOT_LISTS.items():
            shown, expected = set(pluck(data, path)), tenant.owned.get(kind, set())
            if shown - tenant.seen:
                raise Leak(f"{kind} list of {tenant.mark} shows ids it never owned: {sorted(shown - tenant.seen)} in {data}")
            assert shown == expected, (kind, tenant.mark, sorted(shown ^ expected))
        for row in [*pluck(data, "customers.edges.*.node"), *data["assessments"], *data["incidents"]]:
            tenant.versions[row["id"]] = row["version"]
        return data

    # The one rule: an entry, run by its owner, then probed by the other tenant

    # Draws are plain numbers, the same shape whatever the model holds, so Hypothesis can replay
    # and shrink a run although the ids differ each time.
    @rule(actor_first=st.booleans(), pick=st.integers(0, len(OPS) - 1),
          own=st.lists(st.integers(0, 1 << 16), min_size=3, max_size=3),
          theirs=st.lists(st.integers(0, 1 << 16), min_size=3, max_size=3))
    def step(self, actor_first: bool, pick: int, own: list[int], theirs: list[int]) -> None:
        self.run.steps += 1
        actor, other = (self.a, self.b) if actor_first else (self.b, self.a)
        runnable = [op for op in OPS if all(actor.ids(k) or other.ids(k) for k in op.ids.values())]
        op = runnable[pick % len(runnable)]
        if all(actor.ids(k) for k in op.ids.values()):
            ids = {var: actor.ids(kind)[n % len(actor.ids(kind))] for (var, kind), n in zip(op.ids.items(), own)}
            self.call(op, actor, other, ids)
        if (op.ids or op.cross) and all(other.ids(k) for k in op.ids.values()):
            ids = {var: other.ids(kind)[n % len(other.ids(kind))] for (var, kind), n in zip(op.ids.items(), theirs)}
            self.probe(op, actor, other, ids)

    def _send(self, op: Op, actor: Tenant, owner: Tenant, ids: dict[str, str]) -> tuple[dict, dict]:
        variables: dict[str, Any] = {"mark": actor.mark, "n": next(self.run.numbers), **ids}
        token = {"admin": actor.token, "approver": actor.approver_token, "anonymous": None}.get(op.as_)
        if op.as_ == "session":  # a fresh login of the spare user, so logging out ends nothing else
            session = self.run.login(actor.slug, actor.spare_name, actor.spare_password)
            token, variables["r"] = session["accessToken"], session["refreshToken"]
        if op.vars:
            variables.update(op.vars(actor, owner, ids))
        self.run.called.add(op.name)
        self.run.history.append(f"{op.name} by {actor.mark}" + (f" on {owner.mark}'s ids" if owner is not actor else ""))
        return self.run.post(op.doc, token, **variables), variables

    def call(self, op: Op, actor: Tenant, other: Tenant, ids: dict[str, str]) -> None:
        body, variables = self._send(op, actor, actor, ids)
        self._scan(actor, other, body, op.name, exempt=actor.told)
        root = (body.get("data") or {}).get(op.name)
        if body.get("errors") or (isinstance(root, dict) and root.get("errors")):
            return
        if op.makes:
            kind, path = op.makes
            actor.add(kind, pluck(root, path)[0])
        if op.drops:
            var, *kinds = op.drops
            for kind in kinds:
                actor.drop(kind, variables[var])
        if op.after:
            op.after(actor, variables, root)

    def probe(self, op: Op, actor: Tenant, owner: Tenant, ids: dict[str, str]) -> None:
        self.run.probes += 1
        actor.told |= set(ids.values())
        before = self.last[owner.slug]
        body, _ = self._send(op, actor, owner, ids)
        self._scan(actor, owner, body, f"{op.name} with {owner.mark}'s ids")
        root = (body.get("data") or {}).get(op.name)
        if not body.get("errors") and not _refused(root):
            raise Leak(f"{op.name} by {actor.mark} with {owner.mark}'s ids {ids} was not refused: {body}")
        after = self.check_reads(owner, actor)
        if _comparable(after) != _comparable(before):
            raise Leak(f"{op.name} by {actor.mark} changed {owner.mark}'s data")
        self.last[owner.slug] = after

    @invariant()
    def each_tenant_reads_exactly_its_own_data(self) -> None:
        if hasattr(self, "last"):
            for tenant, other in ((self.a, self.b), (self.b, self.a)):
                self.last[tenant.slug] = self.check_reads(tenant, other)


assert set(PARENT.values()) <= set(SNAPSHOT_LISTS)


def run_machine(run: Run, *, examples: int, steps: int, shrink: bool = True) -> Run:
    """Run the machine against the app behind ``run.client``; ``run`` keeps the counters."""
    global RUN
    RUN = run
    phases = [Phase.explicit, Phase.reuse, Phase.generate, *([Phase.shrink] if shrink else [])]
    try:
        run_state_machine_as_test(IsolationMachine, settings=hsettings(
            max_examples=examples, stateful_step_count=steps, deadline=None, database=None, phases=phases,
            suppress_health_check=list(HealthCheck), derandomize=False))
        return RUN
    finally:
        RUN = None
