"""Core's Piccolo app: the tables every domain registers (its tables module's ``TABLES``) and core's
migrations. It lives above ``core/db`` so the database layer imports no domain (issue 18 point 12);
``core/db/piccolo_conf.py`` names it by module path only."""

from importlib import import_module
from pathlib import Path

from piccolo.conf.apps import AppConfig

# Each domain's tables module, in the order the tables were created (tenant first: others refer to it).
DOMAIN_TABLE_MODULES = (
    "core.tenancy.tables",
    "core.identity.tables",
    "core.audit.tables",
    "core.jobs.tables",
    "core.webhooks.tables",
    "core.verticals.tables",
    "core.customers.tables",
    "core.customers.import_tables",
    "core.privacy.access_tables",
    "core.privacy.subject_tables",
    "core.privacy.consent_tables",
    "core.archives.tables",
    "core.customers.export_tables",
    "core.idempotency.tables",
    "core.calendar.tables",
    "core.complaints.tables",
    "core.grading.tables",
    "core.visits.tables",
    "core.blacklists.tables",
    "core.attribution.tables",
    "core.governance.fault_tables",
    "core.governance.training_tables",
    "core.governance.change_tables",
    "core.governance.deletion_tables",
    "core.identity.grant_tables",
)

APP_CONFIG = AppConfig(
    app_name="kehu_core",
    migrations_folder_path=str(Path(__file__).parent / "db" / "migrations"),
    table_classes=[table for module in DOMAIN_TABLE_MODULES for table in import_module(module).TABLES],
    migration_dependencies=[],
    commands=[],
)
