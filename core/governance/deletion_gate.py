"""The tenant's deletion setting and the gate of the direct deletion paths (seed-004 §2.4.1,
CSM-13): with ``requires_approval`` on, ``customerErase`` (core.privacy.erasure.erase_subject) and
``customerDelete`` (core.customers.service.delete_customer) are refused and customers are deleted
only through approved deletion requests (core.governance.deletions). Kept apart from the
deletion use cases, which import the erasure, so the gated modules import no circle."""

from __future__ import annotations

import json

from core.db.uow import UnitOfWork
from core.errors import KehuError
from core.governance import deletion_policy as policy
from core.identity.tables import TenantSetting


async def deletion_settings_in(uow: UnitOfWork) -> policy.DeletionSettings:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == policy.SETTING_KEY).first()
    return policy.settings_of(json.loads(row["value"]) if row else None)


async def refuse_direct_deletion(uow: UnitOfWork) -> None:
    """Refuse with DELETION_APPROVAL_REQUIRED where the tenant requires approved deletion requests.
    Subject requests (PIPL, their own verification) and the retention purge are not gated."""
    if (await deletion_settings_in(uow)).requires_approval:
        raise KehuError("DELETION_APPROVAL_REQUIRED", "this tenant deletes customers only through approved deletion "
                        "requests: file one with customerDeletionRequestSubmit",
                        "本租户只能通过经审批的删除申请删除客户，请提交客户信息删除申请", field="id")
