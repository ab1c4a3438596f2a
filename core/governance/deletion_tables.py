"""Customer deletion requests (seed-004 §2.4.2 《客户信息删除申请表》, W6; CSM-9 to CSM-13): the
form, the department head's signature, the approval of the head of customer information
management, the system administrator's execution and the confirmation that the backups were
purged. The executed rows are the ledger of erased customers a backup restore must re-apply.

The customer is named by ``subject_customer_id``, not ``customer_id``: the erasure
(core.privacy.erasure) deletes every row of a tenant table with a ``customer_id`` column, and this
row must outlive the customer it erased. The customer details (personal data) are stored sealed
and emptied when the request is executed."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class CustomerDeletionRequest(TenantOwned, tablename="customer_deletion_request"):
    subject_customer_id = UUID()
    department_id = UUID()  # the applying department (提出申请的部门)
    reason = Varchar(length=40)  # deletion_policy.REASONS
    reason_details = Text()
    customer_details = Text()  # sealed JSON {"text": ...}; {} once executed
    state = Varchar(length=20)
    submitted_by = Varchar(length=100)
    submitted_by_id = UUID(null=True, default=None)
    signed_by = Varchar(length=100, null=True, default=None)  # department head (部门负责人审核签字)
    signed_at = Timestamptz(null=True, default=None)
    approved_by = Varchar(length=100, null=True, default=None)  # head of customer information management
    approved_at = Timestamptz(null=True, default=None)
    executed_by = Varchar(length=100, null=True, default=None)  # system administrator (删除人员)
    executed_at = Timestamptz(null=True, default=None)  # 删除时间
    purge_confirmed_by = Varchar(length=100, null=True, default=None)
    purge_confirmed_at = Timestamptz(null=True, default=None)
    purge_note = Text(default="")  # the storage media / backup sets purged
    closed_by = Varchar(length=100, null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    rejected_by = Varchar(length=100, null=True, default=None)
    rejected_at = Timestamptz(null=True, default=None)
    rejection_reason = Text(default="")
    version = Integer(default=1)


TABLES = (CustomerDeletionRequest,)
