"""Pure rules of customer deletion requests (seed-004 §2.4, W6; CSM-9 to CSM-13): the form's
required parts, the reasons, the states and the strict order of their steps, who may take a step
after whom, and the tenant setting that routes direct erasure through the workflow. No I/O.

States (W6; the seed's DRAFT is the caller's unsent form)::

    submitted -> dept_head_signed -> cim_head_approved -> executed -> backups_purged -> closed
    submitted | dept_head_signed -> rejected

Every step moves from exactly one state: none can be skipped, so a clean-up of a DATA_ERROR or a
DUPLICATE (like every other reason) never reaches ``executed`` without the department head's
signature (CSM-13).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# 删除原因 (§2.4.1)
BUSINESS_TERMINATED_NOT_NEEDED = "BUSINESS_TERMINATED_NOT_NEEDED"  # 终止业务关系且不再需要保留
DATA_ERROR = "DATA_ERROR"  # 数据错误
DUPLICATE = "DUPLICATE"  # 重复录入
LEGAL_OR_POLICY = "LEGAL_OR_POLICY"  # 法律法规或公司规定要求
REASONS = (BUSINESS_TERMINATED_NOT_NEEDED, DATA_ERROR, DUPLICATE, LEGAL_OR_POLICY)
CLEAN_UP_REASONS = (DATA_ERROR, DUPLICATE)  # §2.4.1: "经部门负责人审批后" (CSM-13)

SUBMITTED = "submitted"
DEPT_HEAD_SIGNED = "dept_head_signed"
CIM_HEAD_APPROVED = "cim_head_approved"
EXECUTED = "executed"
BACKUPS_PURGED = "backups_purged"
CLOSED = "closed"
REJECTED = "rejected"
STATES = (SUBMITTED, DEPT_HEAD_SIGNED, CIM_HEAD_APPROVED, EXECUTED, BACKUPS_PURGED, CLOSED, REJECTED)
OPEN_STATES = (SUBMITTED, DEPT_HEAD_SIGNED, CIM_HEAD_APPROVED)  # the customer is still there

SIGN, APPROVE, EXECUTE, PURGE, CLOSE, REJECT = "sign", "approve", "execute", "confirm_purge", "close", "reject"
# step -> (the states it moves from, the state it moves to)
STEPS: dict[str, tuple[tuple[str, ...], str]] = {
    SIGN: ((SUBMITTED,), DEPT_HEAD_SIGNED),
    APPROVE: ((DEPT_HEAD_SIGNED,), CIM_HEAD_APPROVED),
    EXECUTE: ((CIM_HEAD_APPROVED,), EXECUTED),
    PURGE: ((EXECUTED,), BACKUPS_PURGED),
    CLOSE: ((BACKUPS_PURGED,), CLOSED),
    REJECT: ((SUBMITTED, DEPT_HEAD_SIGNED), REJECTED),
}

MAX_DETAILS = 4000
MAX_NOTE = 2000

SETTING_KEY = "customers.deletion"
DEFAULTS: dict[str, Any] = {"requires_approval": False}


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a step is refused: a coded error's parts (the service raises it)."""
    code: str
    field: str
    en: str
    zh: str


@dataclass(frozen=True, slots=True)
class DeletionSettings:
    requires_approval: bool  # on: the direct erasure (customerErase) is refused, use the workflow


def settings_of(stored: Mapping[str, Any] | None) -> DeletionSettings:
    values = {**DEFAULTS, **(stored or {})}
    return DeletionSettings(requires_approval=bool(values["requires_approval"]))


def form_refusal(reason: object, reason_details: object, customer_details: object) -> Refusal | None:
    """CSM-9: the form needs its reason (one of ``REASONS``), the reason explained and the
    customer's details (§2.4.2 "详细说明删除原因、客户信息详情"); None when complete."""
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        return Refusal("FIELD_REQUIRED", "reason", "the deletion reason is required", "须选择删除原因")
    if reason not in REASONS:
        return Refusal("FIELD_INVALID", "reason", f"the deletion reason is one of {', '.join(REASONS)}",
                       f"删除原因须为 {', '.join(REASONS)} 之一")
    for field, value, en, zh in (("reasonDetails", reason_details, "the reason explained", "删除原因说明"),
                                 ("customerDetails", customer_details, "the customer information details",
                                  "客户信息详情")):
        if not isinstance(value, str) or not value.strip():
            return Refusal("FIELD_REQUIRED", field, f"{en} is required", f"须填写{zh}")
        if len(value.strip()) > MAX_DETAILS:
            return Refusal("FIELD_TOO_LONG", field, f"{en} has at most {MAX_DETAILS} characters",
                           f"{zh}最多 {MAX_DETAILS} 字")
    return None


def step_refusal(step: str, state: str) -> Refusal | None:
    """Whether ``step`` may be taken from ``state`` (the strict order, CSM-10 to CSM-12); None when
    it may. The refusals name what is missing: the signature before the approval
    (``DELETION_NOT_SIGNED``), the approval before the execution (``DELETION_NOT_APPROVED``), the
    backup purge before the closing (``DELETION_BACKUPS_NOT_PURGED``); any other step out of order
    is ``DELETION_REQUEST_STATE``."""
    sources, _ = STEPS[step]
    if state in sources:
        return None
    if step == APPROVE and state == SUBMITTED:
        return Refusal("DELETION_NOT_SIGNED", "id", "the department head has not signed the deletion request yet",
                       "部门负责人尚未审核签字，不能审批")
    if step == EXECUTE and state in (SUBMITTED, DEPT_HEAD_SIGNED):
        return Refusal("DELETION_NOT_APPROVED", "id",
                       "the deletion request is not approved by the department head and the head of customer "
                       "information management", "删除申请未经部门负责人及客户信息管理部门负责人审批，不能执行")
    if step == CLOSE and state == EXECUTED:
        return Refusal("DELETION_BACKUPS_NOT_PURGED", "id",
                       "the deletion request closes only once the purge of the backups is confirmed",
                       "备份数据同步删除确认前不能关闭删除申请")
    return Refusal("DELETION_REQUEST_STATE", "id", f"the deletion request is {state}: it cannot {step.replace('_', ' ')} "
                   f"(from {' or '.join(sources)} only)", f"删除申请当前状态为 {state}，不能执行该操作")


def next_state(step: str) -> str:
    return STEPS[step][1]


def duty_refusal(step: str, actor: str, submitted_by: str, signed_by: str | None) -> Refusal | None:
    """Separation of duties: the submitter neither signs, approves nor rejects their own request,
    and the head of customer information management is not the department head who signed."""
    if step in (SIGN, APPROVE, REJECT) and actor == submitted_by:
        return Refusal("SEPARATION_OF_DUTIES", "id", "the submitter may not sign, approve or reject their own "
                       "deletion request", "申请人不得审核、审批或驳回本人提交的删除申请")
    if step in (APPROVE, REJECT) and signed_by is not None and actor == signed_by:
        return Refusal("SEPARATION_OF_DUTIES", "id", "the department head who signed may not also approve or reject "
                       "as head of customer information management", "已签字的部门负责人不得再以客户信息管理部门负责人身份审批")
    return None


def note_refusal(note: object, field: str = "note") -> Refusal | None:
    """The purge confirmation names the storage media or backup sets purged (required)."""
    if not isinstance(note, str) or not note.strip():
        return Refusal("FIELD_REQUIRED", field, "name the storage media or backup sets purged",
                       "须注明已同步删除的存储介质或备份集")
    if len(note.strip()) > MAX_NOTE:
        return Refusal("FIELD_TOO_LONG", field, f"at most {MAX_NOTE} characters", f"最多 {MAX_NOTE} 字")
    return None
