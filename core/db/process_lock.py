"""One ``kehu serve`` per SQLite file.

The embedded profile runs the outbox relay, the long-job loop and the scheduler inside the API
process; a second process on the same file would run them twice and fight the first over the
write lock. The first process holds an OS lock (``flock``) on a file beside the database for its
whole life. The OS drops the lock when the process ends, however it ends (a crash or SIGKILL
included), so a stale lock never blocks the next start, unlike a pid file. The pid written into
the lock file only makes the refusal say who holds it.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.errors import KehuError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

_held: dict[Path, int] = {}  # lock file -> descriptor, kept open (and locked) until the process ends


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:  # pragma: no cover - Windows: lock a byte far past the pid
            os.lseek(fd, 1 << 20, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # BlockingIOError (EWOULDBLOCK) on POSIX, PermissionError on Windows
        return False
    return True


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
    except (OSError, AttributeError):  # pragma: no cover - no pread on Windows
        return "unknown"


def hold_database_lock(database: Path) -> bool:
    """Lock ``database`` for this process until it exits, or refuse with DATABASE_IN_USE when
    another process holds it. True when taken now; False when this process already held it."""
    path = lock_path(database)
    key = path.resolve()
    if key in _held:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # not inherited by child processes
    if not _try_lock(fd):
        holder = _holder(fd)
        os.close(fd)
        raise KehuError(
            "DATABASE_IN_USE",
            f"another kehu process (pid {holder}) is already serving the SQLite database {database}: the "
            f"embedded profile allows one process per database file (lock {path.name}); stop it, or set "
            "KEHU_DATABASE_URL to another file",
            f"另一个 kehu 进程（pid {holder}）正在使用 SQLite 数据库 {database}：嵌入式配置每个数据库文件只允许一个进程"
            f"（锁文件 {path.name}）；请先停止它，或将 KEHU_DATABASE_URL 指向另一个文件",
        )
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = fd
    return True


def release_database_lock(database: Path) -> None:
    """Give the lock back before the process ends (tests; a process that stops serving)."""
    fd = _held.pop(lock_path(database).resolve(), None)
    if fd is not None:
        os.close(fd)  # closing the last descriptor of the open file releases the flock
