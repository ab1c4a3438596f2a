"""The Piccolo app holding core's tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.archives.tables import ARCHIVE_TABLES
from core.audit import tables as audit
from core.customers.export_tables import EXPORT_LINK_TABLES
from core.customers.import_tables import CustomerImportUpload
from core.customers.tables import CUSTOMER_TABLES
from core.identity import tables as identity
from core.idempotency.tables import IDEMPOTENCY_TABLES
from core.jobs.tables import JobOutputChunk, LongJob, OutboxEvent
from core.privacy.access_tables import ACCESS_TABLES
from core.privacy.subject_tables import SUBJECT_TABLES
from core.privacy.consent_tables import PRIVACY_RECORD_TABLES
from core.webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from core.tenancy.tables import Department, Tenant
from core.verticals.tables import VerticalEnablement

APP_CONFIG = AppConfig(
    app_name="kehu_core",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[
        Tenant,
        Department,
        identity.User,
        identity.UserDepartment,
        identity.Role,
        identity.RolePermission,
        identity.UserRole,
        identity.AuthSession,
        identity.RefreshToken,
        identity.ApiKey,
        identity.LoginThrottle,
        identity.TenantSetting,
        identity.OwnershipHandover,
        identity.RoleChange,
        audit.AuditEntry,
        audit.AuditChain,
        audit.AuditAnchor,
        OutboxEvent,
        WebhookEndpoint,
        WebhookDelivery,
        WebhookAttempt,
        VerticalEnablement,
        LongJob,
        JobOutputChunk,
        *CUSTOMER_TABLES,
        CustomerImportUpload,
        *ACCESS_TABLES,
        *SUBJECT_TABLES,
        *PRIVACY_RECORD_TABLES,
        *ARCHIVE_TABLES,
        *EXPORT_LINK_TABLES,
        *IDEMPOTENCY_TABLES,
    ],
    migration_dependencies=[],
    commands=[],
)
