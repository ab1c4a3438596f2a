"""Backups and restores (issue 26; seed-002 §1 R1-08 monthly backup, seed-004 §4.3.2 W11 and PRIV-05,
R20 audit chain). Acceptance 10: backup, drop, restore of a tenant gives identical GraphQL answers
for every query of the isolation suite's operations, and a verified audit chain. Each test runs on
SQLite and on PostgreSQL (the ``settings`` fixture)."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import pytest
from litestar.testing import TestClient

from core.audit.chain import verify_chain
from core.backup.format import Backup
from core.backup.service import restore_backup, write_backup
from core.db import unit_of_work
from core.errors import KehuError
from core.plugins.manager import load_verticals
from core.tenancy.tables import Tenant
from gateway.app import create_app
from tests.backup.support import drop_tenant, new_key, tenant_rows
from tests.isolation import machine
from tests.isolation.operations import OPS
from tests.support import SYSTEM

QUERIES = [op for op in OPS if not op.doc.lstrip().startswith(("mutation", "subscription"))]
# What legitimately differs after a restore, and nothing else: the restore is itself an audit entry
# (R20: it is on record), so the audit log's list shows it and the verification counts it.
RESTORE_ACTION = "tenant.restored"


def _fast(settings):
    return settings.model_copy(update={
        "rate_limit_anonymous_per_minute": 1_000_000, "rate_limit_per_minute": 1_000_000,
        "rate_limit_cost_per_minute": 1_000_000_000, "rate_limit_caller_cost_per_minute": 1_000_000_000,
        "tick_interval_seconds": 3600})


def _answers(run: machine.Run, tenant) -> dict[str, object]:
    """Every query entry of OPS the tenant can run with its own ids, with its answer."""
    answers: dict[str, object] = {}
    for index, op in enumerate(QUERIES):
        if op.as_ not in ("admin", "approver", "deputy", "anonymous") or not all(tenant.ids(k) for k in op.ids.values()):
            continue
        ids = {var: tenant.ids(kind)[0] for var, kind in op.ids.items()}
        variables = {"mark": tenant.mark, "n": 1, **ids, **(op.vars(tenant, tenant, ids) if op.vars else {})}
        token = {"admin": tenant.token, "approver": tenant.approver_token, "deputy": tenant.deputy_token}.get(op.as_)
        body = run.post(op.doc, token, **variables)
        answers[f"{index}:{op.name}"] = _without_restore(op.name, body)
    return answers


def _without_restore(name: str, body: dict) -> dict:
    if name == "auditEntries" and body.get("data") and body["data"].get(name):
        page = body["data"][name]
        nodes = page.get("nodes") or [edge["node"] for edge in page.get("edges", [])]
        # a page of the newest entries: the restore's entry pushes the oldest one off the page
        return {"entries": [n for n in nodes if n.get("action") != RESTORE_ACTION][: len(nodes) - 1]}
    if name == "attributionDecision" and (body.get("data") or {}).get(name):
        facts = body["data"][name].get("facts") or {}
        facts.pop("as_of", None)  # the moment the decision was asked for: now
    if name == "auditVerify":  # one entry more after the restore; only the verdict must hold
        return {"ok": (body.get("data") or {}).get(name, {}).get("ok")}
    return body


def _drive(settings, work):
    def run():
        with TestClient(create_app(settings)) as client:
            return work(machine.Run(client))

    return asyncio.to_thread(run)


async def test_acceptance_10_backup_drop_restore_gives_identical_answers_and_a_verified_chain(
        database, settings, tmp_path):
    """Acceptance 10, seed-002 §1 R1-08, R20: a tenant with representative data made through the
    GraphQL API is backed up, dropped and restored; every query of the isolation suite answers the
    same, and its audit chain verifies."""
    settings = _fast(settings)
    state: dict = {}

    def before(run: machine.Run):
        tenant = run.new_tenant("备")
        me = run.post("{ me { tenantId } }", tenant.token)["data"]["me"]
        state["tenant"], state["id"] = tenant, uuid.UUID(me["tenantId"])
        return _answers(run, tenant)

    answers = await _drive(settings, before)
    assert len(answers) > 100, len(answers)  # most query entries ran with the tenant's ids
    tenant, tenant_id = state["tenant"], state["id"]
    key, path = new_key(), tmp_path / "tenant.kehu-backup"
    report = await write_backup(path, key, slug=tenant.slug)
    assert report.rows["customer"] >= 1 and report.rows["audit_entry"] > 10
    assert any(name.startswith("automotive_") for name in report.rows), "a vertical's tables are backed up"

    await drop_tenant(settings, tenant_id)
    assert await tenant_rows(tenant_id) == 0
    restored = await restore_backup(path, key, load_verticals(settings.disabled_plugins))
    assert restored.tenants == [tenant.slug]
    assert sum(restored.rows.values()) == sum(report.rows.values())

    async with unit_of_work(SYSTEM.for_tenant(tenant_id), write=False) as uow:
        verified = await verify_chain(uow)
    assert verified.ok, verified.describe()
    after = await _drive(settings, lambda run: _answers(run, tenant))
    differing = sorted(name for name in answers if answers[name] != after.get(name))
    assert not differing, [_difference(answers[name], after.get(name), name) for name in differing[:3]]


def _difference(before: object, after: object, path: str) -> str:
    """The first place two answers differ, for the failure message."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key):
                return _difference(before.get(key), after.get(key), f"{path}.{key}")
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for n, (b, a) in enumerate(zip(before, after)):
            if b != a:
                return _difference(b, a, f"{path}[{n}]")
    return f"{path}: {json.dumps(before, ensure_ascii=False)[:300]} != {json.dumps(after, ensure_ascii=False)[:300]}"


async def test_a_corrupted_or_wrong_key_file_is_refused_and_nothing_is_written(database, settings, seeded, tmp_path):
    """seed-004 §4.3.2: a restore checks the checksum and the key before it writes anything."""
    key, path = new_key(), tmp_path / "acme.kehu-backup"
    await write_backup(path, key, slug="acme")
    await drop_tenant(settings, seeded.acme.id)
    registry = load_verticals(settings.disabled_plugins)

    damaged = tmp_path / "damaged.kehu-backup"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    with pytest.raises(KehuError) as refused:
        await restore_backup(damaged, key, registry)
    assert refused.value.code == "BACKUP_CORRUPT"
    cut = tmp_path / "cut.kehu-backup"
    cut.write_bytes(path.read_bytes()[: len(data) // 3])
    with pytest.raises(KehuError) as refused:
        await restore_backup(cut, key, registry)
    assert refused.value.code == "BACKUP_CORRUPT"
    with pytest.raises(KehuError) as refused:
        await restore_backup(path, new_key(), registry)
    assert refused.value.code == "BACKUP_KEY_WRONG"
    assert await tenant_rows(seeded.acme.id) == 0
    async with unit_of_work(SYSTEM, write=False) as uow:
        assert not await uow.exists(Tenant).where(Tenant.id == seeded.acme.id)
    # The key is never in the file; the header says what it holds without the key.
    header = Backup(path).header
    assert [t["slug"] for t in header["tenants"]] == ["acme"] and header["kehu_version"]
    assert "customer" in {t["name"] for t in header["tables"]}
    assert key not in path.read_bytes()


async def test_a_restore_never_overwrites_an_existing_tenant(database, settings, seeded, tmp_path):
    key, path = new_key(), tmp_path / "all.kehu-backup"
    report = await write_backup(path, key)
    assert set(report.tenants) == {"acme", "globex"}
    registry = load_verticals(settings.disabled_plugins)
    await drop_tenant(settings, seeded.acme.id)  # one of the two is gone, the other still there
    with pytest.raises(KehuError) as refused:
        await restore_backup(path, key, registry)
    assert refused.value.code == "BACKUP_TENANT_EXISTS" and "globex" in refused.value.message_en
    assert await tenant_rows(seeded.acme.id) == 0  # one transaction: nothing of acme either
    with pytest.raises(KehuError) as refused:
        await restore_backup(path, key, registry, as_slug="acme-copy")
    assert refused.value.code == "BACKUP_NOT_ONE_TENANT"


async def test_r20_a_customer_erased_after_the_backup_stays_erased_after_the_restore(database, settings, seeded,
                                                                                     tmp_path):
    """R20 / PIPL art. 47 / seed-004 PRIV-05: the erasure ledger outlives the dropped data and the
    restore erases again everyone erased after the backup was taken."""
    from core.customers import service
    from core.privacy import erasure
    from tests.privacy.support import SUBJECT_VALUES, make_subject, prepare, registry, scan_everything

    reg = registry()
    await prepare(settings, seeded, reg)
    acme = SYSTEM.for_tenant(seeded.acme.id)
    subject = await make_subject(seeded.acme.id, reg)
    key, path = new_key(), tmp_path / "acme.kehu-backup"
    await write_backup(path, key, slug="acme")
    await erasure.erase_subject(acme, reg, subject.id, "data subject asked (PIPL art. 47)")

    await drop_tenant(settings, seeded.acme.id)
    restored = await restore_backup(path, key, reg, as_slug="acme-restored")
    assert restored.erasures_reapplied == 1 and restored.tenants == ["acme-restored"]
    with pytest.raises(KehuError):  # an erased customer is not found
        await service.get_customer(acme, subject.id)
    async with unit_of_work(acme, write=False) as uow:
        row = await uow.fetch("SELECT status, display_name FROM customer WHERE tenant_id = {} AND id = {}",
                              seeded.acme.id, subject.id)
    assert row == [{"status": "erased", "display_name": erasure.ERASED_NAME}]
    assert await scan_everything([seeded.acme.id], SUBJECT_VALUES) == []
    async with unit_of_work(acme, write=False) as uow:
        verified = await verify_chain(uow)
        assert verified.ok, verified.describe()
        entries = await uow.fetch("SELECT action, diff FROM audit_entry WHERE tenant_id = {} ORDER BY seq",
                                  seeded.acme.id)
    assert [e["action"] for e in entries][-2:] == ["customer.erased", "tenant.restored"]
    assert json.loads(entries[-1]["diff"])["erasures_reapplied"] == {"to": 1}


def test_the_backup_file_is_written_whole_or_not_at_all(tmp_path):
    """A failed backup leaves no file: the writer works on a temporary file renamed at the end."""
    from core.backup.format import Writer

    key, path = new_key(), tmp_path / "x.kehu-backup"
    with path.open("wb") as handle:
        writer = Writer(handle, key, {"tenants": []})
        for n in range(3000):  # several frames
            writer.write({"k": "rows", "rows": [[n, "客户" * 200]]})
        writer.close({"tables": {}, "rows": 0})
    backup = Backup(path)
    backup.verify_checksum()
    assert sum(1 for _ in backup.records(key)) == 3000
    assert isinstance(Path(path), Path)
