"""Issue 16 point 10: audit anchors are verifiable without trusting the database.

The attacker here can write the database (the owner's password, or the SQLite file) and covers
their tracks: every hash after a change is recomputed, the chain head is moved to match, and the
anchor rows kept in the database are deleted. Against the chain alone each of these verifies
"ok"; against the signed anchors kept outside the database each is reported at the first entry
that changed.
"""

import json
import shutil
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.auditing import service as audit
from core.audit.anchors import (AnchorKeys, Anchoring, DirectoryAnchorStore, anchoring, configure_audit_anchors,
                                resolve_anchor_keys)
from core.audit.chain import anchor_chain, entry_hash, verify_chain
from core.context import Context
from core.db import unit_of_work
from core.errors import ConfigurationError, KehuError
from core.jobs import timers
from core.settings import load_settings
from core.tenancy import service as tenancy
from tests.audit.test_chain import _append, _as_owner, _seq_of, owner_connection

SYSTEM = Context.system()


@pytest.fixture
async def tenant(database):
    return await tenancy.create_tenant(SYSTEM, slug="anchored", name="Anchored")


async def _verify(tenant, now: datetime | None = None):
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return await verify_chain(uow, now=now)


async def _anchor(tenant) -> int | None:
    return await anchor_chain(SYSTEM.for_tenant(tenant.id))


async def _entries(tenant) -> list[dict]:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return await uow.fetch("SELECT * FROM audit_entry WHERE tenant_id = {} ORDER BY seq", tenant.id)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def _rewrite(settings, tenant, entries: list[dict], *, base_seq: int = 0, base_hash: str | None = None,
                   renumber_from: int = 1) -> None:
    """Make the chain consist of ``entries`` (rows as read, some edited or left out), numbered from
    ``renumber_from`` and every hash recomputed; delete what is not kept; move the head (and the
    base) to match; delete the anchor rows kept in the database. What a careful attacker does."""
    original = await _entries(tenant)
    kept = {e["hash"] for e in entries}
    statements = [f"DELETE FROM audit_entry WHERE hash = {_quote(e['hash'])}" for e in original if e["hash"] not in kept]
    prev = base_hash or (original[0]["prev_hash"] if renumber_from == 1 else None)
    seq = renumber_from
    for entry in entries:
        digest = entry_hash(tenant_id=tenant.id, seq=seq, occurred_at=entry["occurred_at"], actor=entry["actor"],
                            client_address=entry["client_address"], request_id=entry["request_id"],
                            action=entry["action"], target_type=entry["target_type"], target_id=entry["target_id"],
                            diff=entry["diff"], prev_hash=prev)
        statements.append(f"UPDATE audit_entry SET seq = {seq}, diff = {_quote(entry['diff'])}, "
                          f"prev_hash = {_quote(prev)}, hash = {_quote(digest)} WHERE hash = {_quote(entry['hash'])}")
        prev, seq = digest, seq + 1
    statements.append(f"UPDATE audit_chain SET last_seq = {seq - 1}, last_hash = {_quote(prev)}, "
                      f"base_seq = {base_seq}, base_hash = {_quote(base_hash or original[0]['prev_hash'])}")
    statements.append("DELETE FROM audit_anchor")
    await _as_owner(settings, *statements)


async def test_an_edit_with_every_later_hash_recomputed_is_found_at_the_edited_entry(tenant, settings):
    """Issue 16 point 10: an edited entry, re-hashed with all after it, is reported at that entry."""
    await _append(tenant, 6)
    await _anchor(tenant)
    edited = await _seq_of(tenant, "t2")
    entries = await _entries(tenant)
    for entry in entries:
        if entry["target_id"] == "t2":
            entry["diff"] = json.dumps({"n": {"to": 999}})
    await _rewrite(settings, tenant, entries)
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, edited, "rewritten")


async def test_a_deleted_entry_with_the_rest_renumbered_is_found_at_its_position(tenant, settings):
    """Issue 16 point 10: a renumbering delete is reported at the deleted entry's position."""
    await _append(tenant, 6)
    await _anchor(tenant)
    deleted = await _seq_of(tenant, "t3")
    entries = [e for e in await _entries(tenant) if e["target_id"] != "t3"]
    await _rewrite(settings, tenant, entries)
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, deleted, "rewritten")


async def test_a_rewound_tail_is_found_at_the_first_entry_gone(tenant, settings):
    """Issue 16 point 10: entries deleted from the end after an anchor, head rewound, database
    anchors deleted: reported as truncated at the first missing entry."""
    await _append(tenant, 6)
    await _anchor(tenant)
    entries = await _entries(tenant)
    first_gone = entries[-2]["seq"]
    await _rewrite(settings, tenant, entries[:-2])
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, first_gone, "truncated")


async def test_a_rewound_tail_refilled_with_other_entries_is_found(tenant, settings):
    """Issue 16 point 10: a rewound tail written over with as many forged entries is reported at the
    first replaced one."""
    await _append(tenant, 6)
    await _anchor(tenant)
    entries = await _entries(tenant)
    first_replaced = entries[-2]["seq"]
    for entry in entries[-2:]:
        entry["diff"] = json.dumps({"forged": {"to": True}})
    await _rewrite(settings, tenant, entries)
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, first_replaced, "rewritten")


async def test_a_forged_prune_is_found_at_the_first_entry_deleted(tenant, settings):
    """Issue 16 point 10: old entries deleted and the base moved as a prune would, without a signed
    prune record: reported as pruned at the first entry deleted."""
    await _append(tenant, 6)
    await _anchor(tenant)
    entries = await _entries(tenant)
    first = entries[0]["seq"]
    new_base = entries[2]
    await _rewrite(settings, tenant, entries[3:], base_seq=new_base["seq"], base_hash=new_base["hash"],
                   renumber_from=new_base["seq"] + 1)
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, first, "pruned")


async def test_a_real_prune_still_verifies_and_another_base_move_does_not(tenant, settings):
    """Issue 16 point 10: `kehu audit prune` signs its new base, so only that base is accepted."""
    await _append(tenant, 5)
    await audit.set_audit_retention_days(SYSTEM.for_tenant(tenant.id), 365)
    async with owner_connection(settings):
        [(_, count)] = await audit.prune_all(SYSTEM, now=datetime.now(UTC) + timedelta(days=366))
    await _append(tenant, 2)
    assert (await _verify(tenant)).ok
    await _anchor(tenant)
    entries = await _entries(tenant)
    await _rewrite(settings, tenant, entries[1:], base_seq=entries[0]["seq"], base_hash=entries[0]["hash"],
                   renumber_from=entries[0]["seq"] + 1)
    result = await _verify(tenant)
    assert (result.ok, result.position, result.kind) == (False, count + 1, "pruned")


async def test_a_tampered_anchor_file_is_reported(tenant, settings):
    """Issue 16 point 10: an anchor changed in the store no longer carries a valid signature."""
    await _append(tenant, 4)
    position = await _anchor(tenant)
    path = anchoring().store.directory / f"{tenant.id}.jsonl"
    line = json.loads(path.read_text().splitlines()[-1])
    line["seq"] -= 1  # e.g. to make an anchor agree with a shortened chain
    path.write_text(json.dumps(line) + "\n")
    result = await _verify(tenant)
    assert (result.ok, result.kind, result.position) == (False, "anchor_invalid", position - 1)
    with pytest.raises(KehuError) as refused:  # and nothing more is signed on top of it
        await _anchor(tenant)
    assert refused.value.code == "AUDIT_ANCHORS_INVALID"


async def test_anchors_signed_with_another_key_are_not_trusted(tenant, settings):
    """Issue 16 point 10: whoever holds the database but not the signing key cannot write anchors."""
    await _append(tenant, 3)
    real = anchoring()
    forger = Anchoring(store=real.store, keys=AnchorKeys.of(Ed25519PrivateKey.generate()))
    configure_audit_anchors(forger)
    try:
        await _anchor(tenant)
    finally:
        configure_audit_anchors(real)
    assert (await _verify(tenant)).kind == "anchor_invalid"


async def test_an_anchor_removed_from_the_middle_of_the_store_is_reported(tenant, settings):
    """Issue 16 point 10: anchors form a sequence; a gap in it is reported."""
    for _ in range(3):
        await _append(tenant, 2)
        await _anchor(tenant)
    path = anchoring().store.directory / f"{tenant.id}.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    assert (await _verify(tenant)).kind == "anchor_invalid"


async def test_a_deleted_anchor_store_is_reported_once_the_grace_period_is_over(tenant, settings):
    """Issue 16 point 10: losing every anchor shows as entries left unanchored; anchoring does not
    quietly start again on such a chain."""
    await _append(tenant, 3)
    await _anchor(tenant)
    shutil.rmtree(anchoring().store.directory)
    later = datetime.now(UTC) + anchoring().grace + timedelta(minutes=1)
    result = await _verify(tenant, now=later)
    assert (result.ok, result.position, result.kind) == (False, 1, "unanchored")
    with pytest.raises(KehuError) as refused:
        await anchor_chain(SYSTEM.for_tenant(tenant.id), now=later)
    assert refused.value.code == "AUDIT_ANCHORS_MISSING"
    assert await timers.tick(later) and not (anchoring().store.directory / f"{tenant.id}.jsonl").exists()
    # An operator who knows why (a first anchoring of an existing deployment) adopts the chain.
    assert await anchor_chain(SYSTEM.for_tenant(tenant.id), now=later, adopt=True) is not None
    assert (await _verify(tenant, now=later)).ok


async def test_anchoring_refuses_to_sign_a_chain_changed_since_the_last_anchor(tenant, settings):
    """Issue 16 point 10: the anchorer checks the new entries continue the last anchor, so a
    rewritten chain is never signed."""
    await _append(tenant, 4)
    await _anchor(tenant)
    entries = await _entries(tenant)
    entries[1]["diff"] = json.dumps({"n": {"to": -1}})
    await _rewrite(settings, tenant, entries)
    await _append(tenant, 1)
    before = (await anchoring().read(tenant.id)).last.seq
    with pytest.raises(KehuError) as refused:
        await _anchor(tenant)
    assert refused.value.code == "AUDIT_CHAIN_BROKEN"
    assert (await anchoring().read(tenant.id)).last.seq == before


async def test_the_tick_anchors_every_tenant_and_the_chain_verifies_to_its_head(tenant):
    """Issue 16 point 10: anchors are written on a schedule, and the anchor covers the head."""
    await _append(tenant, 3)
    audit._last_anchored.clear()
    handled = await timers.tick()
    assert handled["audit_anchors"] >= 1
    result = await _verify(tenant)
    assert result.ok and result.anchored == await _seq_of(tenant, "t2")
    assert await timers.tick() and (await _verify(tenant)).anchored == result.anchored  # nothing new, no anchor


async def test_after_its_first_pass_the_anchor_sweep_looks_only_at_chains_that_grew(tenant, monkeypatch):
    """Issue 27: background work follows the work due. After a pass over every chain, the sweep
    opens no transaction while no chain grows, and anchors a tenant again once its chain has new
    entries."""
    from core.db.engine import Database

    await _append(tenant, 2)
    monkeypatch.setattr(audit, "_last_anchored", {})
    monkeypatch.setattr(audit, "_put_off", set())
    monkeypatch.setattr(audit, "_previous_pass", [])
    start = datetime.now(UTC)
    assert await audit.anchor_due(start) >= 1  # the first pass: every chain
    interval = anchoring().interval

    opened = []
    original = Database.transaction
    monkeypatch.setattr(Database, "transaction", lambda self, **kw: (opened.append(1), original(self, **kw))[1])
    audit._previous_pass[:] = [start + 2 * interval]  # long after the entries: nothing new since
    assert await audit.anchor_due(start + 3 * interval) == 0
    assert opened == []  # one probe, no unit of work
    monkeypatch.setattr(Database, "transaction", original)

    await _append(tenant, 1)
    now = datetime.now(UTC)
    audit._previous_pass[:] = [now]  # the previous pass began just now
    assert await audit.anchor_due(now + 2 * interval) == 1  # the chain grew: anchored again


async def test_the_anchor_store_holds_no_key_and_verifying_needs_only_the_public_key(tenant, settings):
    """Issue 16 point 10: the store holds signatures, never the signing key; a verifier given only
    the public key checks the same anchors."""
    await _append(tenant, 3)
    await _anchor(tenant)
    real = anchoring()
    seed = (settings.var_dir / "audit-anchor-key").read_text().strip()
    assert seed not in (real.store.directory / f"{tenant.id}.jsonl").read_text()
    verifier = Anchoring(store=real.store, keys=AnchorKeys.of(None, real.keys.signing.public_key()))
    configure_audit_anchors(verifier)
    try:
        assert (await _verify(tenant)).ok
    finally:
        configure_audit_anchors(real)


def test_the_production_profile_needs_an_anchor_key_and_an_anchor_directory(tmp_path):
    """Issue 16 point 10: production never falls back to a key or store beside the database."""
    production = dict(profile="production", database_url="postgresql://app@db:5432/kehu",
                      broker_url="redis://r:6379/0", jwt_signing_keys="k1:" + "A" * 43, var_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="KEHU_AUDIT_ANCHOR_KEY"):
        resolve_anchor_keys(load_settings(**production))
    with pytest.raises(ConfigurationError, match="KEHU_AUDIT_ANCHOR_DIR"):
        configure_audit_anchors(load_settings(**production, audit_anchor_key="B" * 43))
    assert not (tmp_path / "audit-anchor-key").exists()


def test_a_crash_mid_append_leaves_earlier_anchors_readable(tmp_path):
    """A torn last line (a crash while writing) is not an anchor, and the next append stands alone."""
    store = DirectoryAnchorStore(tmp_path)
    tenant_id = "00000000-0000-0000-0000-000000000001"
    version = store.append(tenant_id, '{"a": 1}', 0)
    with open(tmp_path / f"{tenant_id}.jsonl", "a") as handle:
        handle.write('{"torn"')
    assert store.read(tenant_id)[0] == ['{"a": 1}']
    assert store.append(tenant_id, '{"b": 2}', version) is None  # the file changed since
    lines, version = store.read(tenant_id)
    store.append(tenant_id, '{"b": 2}', version)
    assert store.read(tenant_id)[0] == ['{"a": 1}', '{"torn"', '{"b": 2}']


async def test_auditors_anchor_over_graphql_and_the_verifier_reports_the_anchor(settings, seeded):
    """Issue 16 point 10: on demand, an auditor anchors the tenant's chain (needs audit.read)."""
    from litestar.testing import AsyncTestClient

    from gateway.app import create_app
    from tests.gateway.test_identity_api import PASSWORD, gql, login, new_user

    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000})
    async with AsyncTestClient(create_app(relaxed)) as client:
        admin = (await login(client))["accessToken"]
        await new_user(client, admin, "nobody")
        nobody = (await login(client, username="nobody", password=PASSWORD))["accessToken"]
        anchor = "mutation { auditAnchor { position errors { code } } }"
        refused = (await gql(client, anchor, nobody)).json()
        assert [e["code"] for e in refused["data"]["auditAnchor"]["errors"]] == ["PERMISSION_DENIED"]
        done = (await gql(client, anchor, admin)).json()["data"]["auditAnchor"]
        assert done["errors"] == [] and done["position"] > 0
        verified = (await gql(client, "{ auditVerify { ok anchored } }", admin)).json()["data"]["auditVerify"]
        assert verified == {"ok": True, "anchored": done["position"]}


def test_kehu_audit_anchor_and_verify_find_a_recomputed_edit(sqlite_settings):
    """Issue 16 point 10: `kehu audit anchor` then `kehu audit verify` names the edited entry even
    though every hash after it was recomputed and the database's own anchor rows deleted."""
    import sqlite3

    from click.testing import CliRunner

    from gateway.cli import cli

    env = {"KEHU_DATABASE_URL": sqlite_settings.database_url, "KEHU_VAR_DIR": str(sqlite_settings.var_dir)}
    runner = CliRunner()
    runner.invoke(cli, ["migrate"], env=env)
    assert runner.invoke(cli, ["tenants", "create", "acme", "Acme"], env=env).exit_code == 0
    anchored = runner.invoke(cli, ["audit", "anchor"], env=env)
    assert anchored.exit_code == 0 and "acme: position" in anchored.output
    assert (sqlite_settings.var_dir / "audit-anchors").is_dir()
    with sqlite3.connect(sqlite_settings.database.sqlite_path) as connection:
        [tenant_id] = connection.execute("SELECT DISTINCT tenant_id FROM audit_entry").fetchone()

    def recompute() -> None:  # an attacker with the file edits entry 2 and re-hashes the rest
        with sqlite3.connect(sqlite_settings.database.sqlite_path) as connection:
            connection.row_factory = sqlite3.Row
            entries = [dict(r) for r in connection.execute("SELECT * FROM audit_entry ORDER BY seq")]
            prev = entries[0]["prev_hash"]
            for entry in entries:
                if entry["seq"] == 2:
                    entry["actor"] = "someone-else"
                digest = entry_hash(tenant_id=uuid.UUID(str(tenant_id)), seq=entry["seq"],
                                    occurred_at=datetime.fromisoformat(str(entry["occurred_at"])),
                                    actor=entry["actor"], client_address=entry["client_address"],
                                    request_id=entry["request_id"], action=entry["action"],
                                    target_type=entry["target_type"], target_id=entry["target_id"],
                                    diff=entry["diff"], prev_hash=prev)
                connection.execute("UPDATE audit_entry SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                                   (entry["actor"], prev, digest, entry["seq"]))
                prev = digest
            connection.execute("UPDATE audit_chain SET last_hash = ?", (prev,))
            connection.execute("DELETE FROM audit_anchor")

    recompute()
    broken = runner.invoke(cli, ["audit", "verify", "--tenant", "acme"], env=env)
    assert broken.exit_code == 1 and "BROKEN at position 2 (rewritten)" in broken.output, broken.output
