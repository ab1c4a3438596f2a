"""Checks `kehu serve` and `kehu demo` make before anything starts (migrations, the database,
the in-process worker and scheduler): one process per SQLite file, and a port that is free.

A busy port found only by uvicorn would be reported after the app's startup had already run
(and, embedded, after its scheduler had ticked once beside the process already on that port).
"""

from __future__ import annotations

import errno
import socket

from core.db.process_lock import hold_database_lock, release_database_lock
from core.errors import KehuError
from core.settings import Settings


def check_port_free(host: str, port: int) -> None:
    """Bind the address the way uvicorn will (IPv6 when the host has a colon, SO_REUSEADDR so a
    socket in TIME_WAIT after a restart does not count), then let it go; refuse if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise KehuError(
                    "PORT_IN_USE",
                    f"{host}:{port} is already in use by another program; stop it, or choose another port with "
                    "--port or KEHU_PORT",
                    f"{host}:{port} 已被其他程序占用；请先停止它，或用 --port 或 KEHU_PORT 选择其他端口",
                ) from None
            raise KehuError(
                "LISTEN_FAILED",
                f"cannot listen on {host}:{port}: {exc.strerror or exc}; check KEHU_HOST and KEHU_PORT",
                f"无法在 {host}:{port} 上监听：{exc.strerror or exc}；请检查 KEHU_HOST 和 KEHU_PORT",
            ) from None


def before_serving(settings: Settings) -> None:
    """Refuse to start, with a coded one-line reason, before anything has started."""
    database = settings.database
    path = database.sqlite_path if database.is_sqlite and str(database.sqlite_path) != ":memory:" else None
    # First the lock: a second `kehu serve` with the same defaults is told about the database, the cause.
    taken = hold_database_lock(path) if path is not None else False  # held until this process exits
    try:
        check_port_free(settings.host, settings.port)
    except KehuError:
        if taken:  # not serving after all: an in-process caller (a test) may try again
            release_database_lock(path)
        raise
