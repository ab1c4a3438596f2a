"""The monthly backup (seed-002 §1 R1-08 "每月保存備份文件"; seed-004 P-01, P-14): a sweep of the
periodic tick writes one backup of each tenant per calendar month (Asia/Shanghai) into
``KEHU_BACKUP_DIR`` and keeps the newest ``KEHU_BACKUP_RETENTION`` of each tenant there, deleting
older ones. Off while ``KEHU_BACKUP_DIR`` is unset. Files are named
``<slug>-<YYYY-MM>-<YYYYmmddTHHMMSSZ>.kehu-backup``, so the month a file stands for is in its name
and the directory is its own record (docs/backups.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import structlog

from core.backup.format import parse_key
from core.backup.service import write_backup
from core.errors import KehuError
from core.jobs.timers import register_sweep
from core.settings import Settings

log = structlog.get_logger("kehu.backup")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SUFFIX = ".kehu-backup"


@dataclass(frozen=True)
class BackupSchedule:
    directory: Path | None
    retention: int
    key_text: str | None


_schedule: BackupSchedule | None = None


def configure_backups(settings: Settings) -> BackupSchedule:
    global _schedule
    _schedule = BackupSchedule(directory=settings.backup_dir, retention=settings.backup_retention,
                               key_text=settings.backup_key)
    return _schedule


def _current() -> BackupSchedule:
    if _schedule is None:
        from core.settings import load_settings

        return configure_backups(load_settings())
    return _schedule


def file_name(slug: str, now: datetime) -> str:
    local = now.astimezone(SHANGHAI)
    return f"{slug}-{local:%Y-%m}-{now.astimezone(ZoneInfo('UTC')):%Y%m%dT%H%M%SZ}{SUFFIX}"


def backups_of(directory: Path, slug: str) -> list[Path]:
    """A tenant's scheduled backups in the directory, oldest first."""
    pattern = re.compile(rf"^{re.escape(slug)}-\d{{4}}-\d{{2}}-\d{{8}}T\d{{6}}Z{re.escape(SUFFIX)}$")
    return sorted(p for p in directory.glob(f"{slug}-*{SUFFIX}") if pattern.match(p.name))


def prune(directory: Path, slug: str, keep: int) -> list[Path]:
    """Delete the oldest of the tenant's backups beyond ``keep``; the files deleted."""
    found = backups_of(directory, slug)
    gone = found[:-keep] if len(found) > keep else []
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


async def backup_due(now: datetime) -> int:
    """Sweep: back up each tenant that has no backup of this month in the directory yet."""
    schedule = _current()
    if schedule.directory is None:
        return 0
    from core.context import Context
    from core.tenancy.service import list_tenants

    month = f"{now.astimezone(SHANGHAI):%Y-%m}"
    written = 0
    for tenant in await list_tenants(Context.system("job:backup")):
        if any(p.name.startswith(f"{tenant.slug}-{month}-") for p in backups_of(schedule.directory, tenant.slug)):
            continue
        try:
            key = parse_key(schedule.key_text)  # a missing key is reported for every tenant it leaves unsaved
            report = await write_backup(schedule.directory / file_name(tenant.slug, now), key, slug=tenant.slug)
        except KehuError as exc:  # logged and tried again next tick; never the key
            log.warning("backup.scheduled_failed", tenant=tenant.slug, code=exc.code, reason=exc.message_en)
            continue
        written += 1
        removed = prune(schedule.directory, tenant.slug, schedule.retention)
        log.info("backup.scheduled", tenant=tenant.slug, file=report.path.name, size=report.size,
                 sha256=report.sha256, pruned=len(removed))
    return written


register_sweep("backups", backup_due)
