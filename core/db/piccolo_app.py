"""The Piccolo app holding core's tables and migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.tenancy.tables import Department, Tenant

APP_CONFIG = AppConfig(
    app_name="kehu_core",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[Tenant, Department],
    migration_dependencies=[],
    commands=[],
)
