"""The pure rules of customer deletion requests (seed-004 §2.4, W6; CSM-9 to CSM-13): the form,
the strict order of the steps, and the separation of duties."""

from __future__ import annotations

import pytest

from core.governance import deletion_policy as policy

FORM = {"reason": policy.DUPLICATE, "reason_details": "与另一档案重复录入", "customer_details": "甲公司，电话 138…"}


def test_CSM_9_policy_the_form_needs_its_reason_its_explanation_and_the_customer_details():
    assert policy.form_refusal(**FORM) is None
    for name, field in (("reason", "reason"), ("reason_details", "reasonDetails"),
                        ("customer_details", "customerDetails")):
        for empty in (None, "", "   "):
            refusal = policy.form_refusal(**{**FORM, name: empty})
            assert refusal is not None and (refusal.code, refusal.field) == ("FIELD_REQUIRED", field)
    refusal = policy.form_refusal(**{**FORM, "reason": "UNWANTED"})
    assert refusal is not None and (refusal.code, refusal.field) == ("FIELD_INVALID", "reason")
    too_long = policy.form_refusal(**{**FORM, "customer_details": "x" * (policy.MAX_DETAILS + 1)})
    assert too_long is not None and too_long.code == "FIELD_TOO_LONG"
    assert set(policy.REASONS) == {"BUSINESS_TERMINATED_NOT_NEEDED", "DATA_ERROR", "DUPLICATE", "LEGAL_OR_POLICY"}


def test_CSM_10_policy_approval_needs_the_department_heads_signature_first():
    refusal = policy.step_refusal(policy.APPROVE, policy.SUBMITTED)
    assert refusal is not None and refusal.code == "DELETION_NOT_SIGNED"
    assert policy.step_refusal(policy.APPROVE, policy.DEPT_HEAD_SIGNED) is None
    assert policy.step_refusal(policy.SIGN, policy.SUBMITTED) is None
    assert policy.next_state(policy.SIGN) == policy.DEPT_HEAD_SIGNED
    assert policy.next_state(policy.APPROVE) == policy.CIM_HEAD_APPROVED


def test_CSM_11_policy_execution_needs_the_second_level_approval():
    for state in (policy.SUBMITTED, policy.DEPT_HEAD_SIGNED):
        refusal = policy.step_refusal(policy.EXECUTE, state)
        assert refusal is not None and refusal.code == "DELETION_NOT_APPROVED"
    for state in (policy.EXECUTED, policy.REJECTED, policy.CLOSED):
        refusal = policy.step_refusal(policy.EXECUTE, state)
        assert refusal is not None and refusal.code == "DELETION_REQUEST_STATE"
    assert policy.step_refusal(policy.EXECUTE, policy.CIM_HEAD_APPROVED) is None


def test_CSM_12_policy_closing_needs_the_confirmed_backup_purge():
    refusal = policy.step_refusal(policy.CLOSE, policy.EXECUTED)
    assert refusal is not None and refusal.code == "DELETION_BACKUPS_NOT_PURGED"
    assert policy.step_refusal(policy.PURGE, policy.EXECUTED) is None
    assert policy.step_refusal(policy.CLOSE, policy.BACKUPS_PURGED) is None
    purge_early = policy.step_refusal(policy.PURGE, policy.CIM_HEAD_APPROVED)
    assert purge_early is not None and purge_early.code == "DELETION_REQUEST_STATE"
    missing = policy.note_refusal("  ")
    assert missing is not None and missing.code == "FIELD_REQUIRED"
    assert policy.note_refusal("全量备份集 2024-06") is None


def _paths_to(target: str) -> list[list[str]]:
    """Every sequence of states the steps allow from SUBMITTED to ``target``."""
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        if path[-1] == target:
            found.append(path)
            return
        for sources, after in policy.STEPS.values():
            if path[-1] in sources and after not in path:
                walk([*path, after])

    walk([policy.SUBMITTED])
    return found


def test_CSM_13_policy_no_path_reaches_the_deletion_without_the_department_heads_signature():
    """Whatever the reason (the clean-up of a DATA_ERROR or a DUPLICATE included), every way to
    EXECUTED passes DEPT_HEAD_SIGNED and then CIM_HEAD_APPROVED, and every way to CLOSED passes the
    purge of the backups."""
    assert set(policy.CLEAN_UP_REASONS) == {policy.DATA_ERROR, policy.DUPLICATE}
    executed = _paths_to(policy.EXECUTED)
    assert executed == [[policy.SUBMITTED, policy.DEPT_HEAD_SIGNED, policy.CIM_HEAD_APPROVED, policy.EXECUTED]]
    closed = _paths_to(policy.CLOSED)
    assert all(policy.BACKUPS_PURGED in path and policy.DEPT_HEAD_SIGNED in path for path in closed) and closed
    assert policy.settings_of(None).requires_approval is False
    assert policy.settings_of({"requires_approval": True}).requires_approval is True


@pytest.mark.parametrize("step", [policy.SIGN, policy.APPROVE, policy.REJECT])
def test_policy_the_submitter_never_decides_their_own_request(step):
    refusal = policy.duty_refusal(step, "user:a", "user:a", None)
    assert refusal is not None and refusal.code == "SEPARATION_OF_DUTIES"
    assert policy.duty_refusal(step, "user:b", "user:a", None) is None


def test_policy_the_signer_does_not_also_approve():
    refusal = policy.duty_refusal(policy.APPROVE, "user:b", "user:a", "user:b")
    assert refusal is not None and refusal.code == "SEPARATION_OF_DUTIES"
    assert policy.duty_refusal(policy.APPROVE, "user:c", "user:a", "user:b") is None
    assert policy.duty_refusal(policy.EXECUTE, "user:a", "user:a", "user:b") is None
