"""``kehu migrate`` with the installed verticals: core's migrations, then each loaded vertical's own
(``kehu_migrations``). Above the database layer, which loads no plugin itself (issue 18 points 1
and 12)."""

from __future__ import annotations

from core.db.migrate import MigrationReport
from core.db.migrate import migrate as migrate_database
from core.plugins.manager import VerticalRegistry, load_verticals
from core.settings import Settings


async def migrate(settings: Settings, registry: VerticalRegistry | None = None) -> MigrationReport:
    """Migrate core and the verticals of ``registry`` (default: the installed ones, minus
    ``KEHU_DISABLED_PLUGINS``; a broken one stops it unless ``KEHU_BROKEN_PLUGINS=skip``)."""
    if registry is None:
        registry = load_verticals(settings.disabled_plugins, broken=settings.broken_plugins)
    return await migrate_database(settings, registry)
