"""The ``kehu`` command: serve, migrate, tenants, plugins, demo, schema, jobs, audit, calendar.

Every command exits non-zero with one line saying why when something is wrong.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import secrets
import uuid
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click
import structlog
from rich.console import Console
from rich.table import Table as RichTable

from core.auditing import service as audit_service
from core.context import Context, new_request_id
from core.db import Database, use_database
from core.plugins.migrate import migrate as run_migrations  # core and the installed verticals
from core.errors import KehuError
from core.identity.permissions import install_catalog
import core.webhooks.delivery  # noqa: F401 - registers the webhook handler and its sweep
from core.identity.runtime import configure_identity
from core.jobs import outbox
from core.logging import configure_logging, configure_logging_as, redact_text
from core.plugins.manager import load_verticals, start_verticals
from core.settings import Settings, load_settings
from core.tenancy import service as tenancy
from gateway.preflight import before_serving

T = TypeVar("T")
log = structlog.get_logger("kehu.cli")
console = Console()

DEMO_TENANTS = {
    "automotive": ("demo-automotive", "演示·汽车4S店"),
    "real_estate": ("demo-real-estate", "演示·房产销售处"),
    "medical_devices": ("demo-medical-devices", "演示·医疗器械经销商"),
    "tobacco": ("demo-tobacco", "演示·烟草零售"),
}
DEMO_DEPARTMENTS = ("客服部", "销售部")
DEMO_ADMIN = tenancy.TenantAdmin(username="admin", password="kehu-demo-2026!", display_name="演示管理员")


def _one_line(text: str, limit: int = 500) -> str:
    """A message fit for one line of output: credentials redacted, whitespace folded, bounded."""
    text = " ".join(redact_text(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _configure_cli_logging() -> str:
    """Log as configured (level, format) before the command runs; the log format in effect.

    Unconfigured, structlog prints every level with rich tracebacks and their local variables."""
    try:
        settings = load_settings()
        level, log_format = settings.log_level, settings.effective_log_format
    except KehuError:  # the command reports the bad setting itself, in one line
        level = "INFO"
        log_format = "json" if os.environ.get("KEHU_LOG_FORMAT") == "json" else "console"
    configure_logging_as(level, log_format)
    # Piccolo announces the server version at INFO on every start: noise on a command's stderr.
    logging.getLogger("piccolo.engine.base").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    return log_format


def _report_unexpected(exc: Exception, request_id: str, log_format: str) -> None:
    """One coded line (JSON when logs are JSON); the traceback, without locals, only at DEBUG."""
    message = _one_line(str(exc))
    if log_format == "json":
        log.error("cli.error", code="INTERNAL_ERROR", error=type(exc).__name__, message=message)
    else:
        click.echo(f"kehu: error INTERNAL_ERROR (request id {request_id}): {type(exc).__name__} — {message}",
                   err=True)
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        log.debug("cli.error.traceback", exc_info=exc)


def reports_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any failure into one line on stderr and exit status 1; never a credential in it."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        request_id = new_request_id()
        log_format = _configure_cli_logging()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                return command(*args, **kwargs)
            except KehuError as exc:
                raise click.ClickException(_one_line(f"{exc.code}: {exc.message_en}")) from None
            except OSError as exc:
                raise click.ClickException(_one_line(f"cannot reach a service: {exc}")) from None
            except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt):
                raise
            except Exception as exc:
                _report_unexpected(exc, request_id, log_format)
                raise click.exceptions.Exit(1) from None

    return wrapper


def _settings(**overrides: Any) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    settings = load_settings(**given)
    # uvicorn workers build their own app from the environment: hand them the same values.
    for key, value in given.items():
        os.environ[f"KEHU_{key.upper()}"] = str(value)
    return settings


def _run(coroutine: Awaitable[T]) -> T:
    return asyncio.run(coroutine)  # type: ignore[arg-type]


async def _with_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    configure_identity(settings)
    database = Database(settings.database, pool_size=2, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    use_database(database)
    await database.start()
    try:
        return await work()
    finally:
        await database.close()


@click.group(name="kehu", context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kehu")
def cli() -> None:
    """kehu (客户): customer records for regulated companies, served over GraphQL."""


@cli.command()
@click.option("--host", help="Address to listen on [KEHU_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [KEHU_PORT, default 8000].")
@click.option("--workers", type=int, help="API processes; PostgreSQL only above 1 [KEHU_WORKERS].")
@reports_errors
def serve(host: str | None, port: int | None, workers: int | None) -> None:
    """Serve the GraphQL API, /healthz and /readyz (embedded: one process per SQLite file)."""
    settings = _settings(host=host, port=port, workers=workers)
    before_serving(settings)
    _serve(settings)


def _serve(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        "gateway.app:create_app_from_environment",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
        forwarded_allow_ips=settings.forwarded_allow_ips,  # who may say the client's address and https
        log_config=None,
        server_header=False,
    )


@cli.command()
@reports_errors
def migrate() -> None:
    """Apply pending migrations (as the owner, KEHU_MIGRATE_DATABASE_URL) and grant the app role."""
    settings = _settings()
    report = _run(run_migrations(settings))
    if report.applied:
        click.echo(f"applied {len(report.applied)} migration(s): {', '.join(report.applied)}")
    else:
        click.echo("database is up to date; nothing applied")
    if report.verticals_applied:  # the verticals' own tables (kehu_migrations), "<vertical>:<version>"
        click.echo(f"applied {len(report.verticals_applied)} vertical migration(s): {', '.join(report.verticals_applied)}")
    if report.app_role:
        click.echo(f"application role {report.app_role!r} granted; it owns nothing and cannot bypass RLS")


@cli.group()
def tenants() -> None:
    """Create and list tenants (companies)."""


@tenants.command("create")
@click.argument("slug")
@click.argument("name")
@click.option("--admin", "admin_username", default="admin", show_default=True,
              help="Username of the tenant's first administrator (系统管理员).")
@reports_errors
def tenants_create(slug: str, name: str, admin_username: str) -> None:
    """Create tenant SLUG (lowercase, e.g. acme-motors) named NAME, with its default roles and a
    first administrator whose one-time password is printed."""
    settings = _settings()
    # Printed, so known to whoever saw the terminal: it must be changed at first sign-in.
    admin = tenancy.TenantAdmin(username=admin_username, password=secrets.token_urlsafe(12), must_change_password=True)
    tenant = _run(_with_database(settings, lambda: tenancy.create_tenant(Context.system(), slug=slug, name=name,
                                                                         admin=admin)))
    click.echo(f"created tenant {tenant.slug} ({tenant.id})")
    click.echo(f"administrator: {admin.username} / {admin.password}  (shown once; the first sign-in must change it)")


@tenants.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def tenants_list(as_json: bool) -> None:
    """List tenants."""
    settings = _settings()
    rows = _run(_with_database(settings, lambda: tenancy.list_tenants(Context.system())))
    if as_json:
        click.echo(json.dumps([{"id": str(t.id), "slug": t.slug, "name": t.name, "status": t.status} for t in rows],
                              ensure_ascii=False))
        return
    table = RichTable("slug", "name", "status", "id")
    for t in rows:
        table.add_row(t.slug, t.name, t.status, str(t.id))
    console.print(table)


@cli.command()
@click.option("--threads", type=int, default=4, show_default=True, help="Actor threads in this process.")
@reports_errors
def worker(threads: int) -> None:
    """Run background jobs: outbox events from Redis (production), relaying due events to them,
    and long jobs (exports, imports) claimed from the database."""
    settings = _settings()
    if settings.broker_url == "embedded":
        raise KehuError("BROKER_EMBEDDED", "the embedded profile runs jobs inside `kehu serve`; set KEHU_BROKER_URL "
                        "to redis://… to run separate workers")
    _run_worker(settings, threads)


def _run_worker(settings: Settings, threads: int) -> None:
    import signal
    import threading

    from dramatiq import Worker
    from dramatiq.asyncio import get_event_loop_thread

    from core.background import configure_background_work
    from core.jobs import long_jobs, redis_worker
    from core.privacy.crypto import configure_data_keys
    from core.jobs.worker import run_embedded_worker as relay_loop

    configure_logging(settings)
    configure_identity(settings)
    outbox.configure_jobs(settings)
    long_jobs.configure_long_jobs(settings)
    registry = load_verticals(settings.disabled_plugins)
    install_catalog(registry.permissions)
    configure_background_work(registry)
    configure_data_keys(settings)
    broker = redis_worker.make_broker(settings.broker_url)
    actor = redis_worker.declare_actor(broker)
    dramatiq_worker = Worker(broker, worker_threads=threads)
    dramatiq_worker.start()
    loop = get_event_loop_thread().loop
    database = Database(settings.database, pool_size=threads + settings.job_concurrency + 2,
                        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                        connect_timeout=settings.database_connect_timeout_seconds,
                        statement_timeout=settings.database_statement_timeout_seconds)
    stop_relay = asyncio.Event()

    async def serve_jobs() -> None:
        use_database(database)
        await database.start()
        try:
            await asyncio.gather(relay_loop(stop_relay, dispatch=redis_worker.dispatcher(actor)),
                                 long_jobs.run_job_loop(stop_relay, concurrency=settings.job_concurrency))
        finally:
            await database.close()

    running = asyncio.run_coroutine_threadsafe(serve_jobs(), loop)
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    log.info("worker.started", threads=threads, queue=redis_worker.QUEUE)
    stopped.wait()
    loop.call_soon_threadsafe(stop_relay.set)
    running.result(timeout=30)
    dramatiq_worker.stop()
    log.info("worker.stopped")


@cli.command()
@reports_errors
def scheduler() -> None:
    """Production: run the periodic tick that finds due work in the database (run exactly one)."""
    settings = _settings()
    configure_logging(settings)
    configure_identity(settings)
    outbox.configure_jobs(settings)
    from core.webhooks.delivery import configure_delivery, drain
    from core.webhooks.targets import configure_webhooks
    configure_webhooks(settings)  # the scheduler's webhooks sweep sends the deliveries
    configure_delivery(settings)

    async def run() -> None:
        import signal

        from core.background import configure_background_work
        from core.jobs.timers import start_scheduler, stop_scheduler
        from core.privacy.crypto import configure_data_keys

        registry = load_verticals(settings.disabled_plugins)
        install_catalog(registry.permissions)
        configure_background_work(registry)  # every sweep, in one place
        configure_data_keys(settings)

        stopped = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopped.set)
        ticking = start_scheduler(settings.tick_interval_seconds)
        log.info("scheduler.started", interval_seconds=settings.tick_interval_seconds)
        await stopped.wait()
        await stop_scheduler(ticking, settings.shutdown_grace_seconds)
        try:  # webhook attempts in flight end (or are resent after their lease), within the grace
            await asyncio.wait_for(drain(), settings.shutdown_grace_seconds)
        except TimeoutError:
            log.warning("scheduler.shutdown_forced", grace_seconds=settings.shutdown_grace_seconds)
        log.info("scheduler.stopped")

    _run(_with_database(settings, run))


@cli.group()
def jobs() -> None:
    """Background jobs that used up their attempts: list and replay them."""


@jobs.command("dead")
@reports_errors
def jobs_dead() -> None:
    """List dead events of every tenant."""
    settings = _settings()
    dead = _run(_with_database(settings, lambda: outbox.dead_events(Context.system("cli:jobs"))))
    for event in dead:
        click.echo(f"{event.id}  tenant {event.tenant_id}  {event.event_type}  attempts {event.attempts}  "
                   f"{event.last_error or ''}")
    click.echo(f"{len(dead)} dead event(s)")


@jobs.command("replay")
@click.argument("event_ids", nargs=-1, required=True)
@reports_errors
def jobs_replay(event_ids: tuple[str, ...]) -> None:
    """Give the dead events EVENT_IDS a fresh set of attempts."""
    settings = _settings()
    try:
        ids = [uuid.UUID(value) for value in event_ids]
    except ValueError:
        raise KehuError("ID_INVALID", "event ids are UUIDs, as `kehu jobs dead` prints them") from None
    replayed = _run(_with_database(settings, lambda: outbox.replay(Context.system("cli:jobs"), ids)))
    click.echo(f"replayed {replayed} of {len(ids)} event(s)")
    if replayed != len(ids):
        raise click.exceptions.Exit(1)


@cli.group()
def audit() -> None:
    """Verify, anchor and prune the tenants' audit chains."""


async def _with_owner_database(settings: Settings, work: Callable[[], Awaitable[T]]) -> T:
    """Operator work that the app role may not do (pruning) runs as the owner."""
    owner = settings.model_copy(update={"database_url": settings.migrate_database.raw})
    return await _with_database(owner, work)


def _audit_settings() -> Settings:
    """Settings with the anchor store and keys configured (production stops here without them)."""
    from core.audit.anchors import configure_audit_anchors

    settings = _settings()
    configure_audit_anchors(settings)
    return settings


@audit.command("verify")
@click.option("--tenant", "slug", help="Only this tenant (its slug).")
@reports_errors
def audit_verify(slug: str | None) -> None:
    """Check every chain (or one tenant's) against itself and its signed anchors; exit 1 at the
    first broken position found."""
    settings = _audit_settings()
    results = _run(_with_database(settings, lambda: audit_service.verify_all(Context.system("cli:audit"), slug)))
    for tenant_slug, result in results:
        anchored = f", anchored to {result.anchored}" if result.anchored is not None else ", no anchor yet"
        click.echo(f"{tenant_slug}: " + (f"ok, {result.checked} entries{anchored}" if result.ok else
                                          f"BROKEN at position {result.position} ({result.kind}) "
                                          f"after {result.checked} good entries"))
    if not all(result.ok for _, result in results):
        raise click.exceptions.Exit(1)


@audit.command("anchor")
@click.option("--adopt", is_flag=True,
              help="Start anchoring chains that have no anchor though their entries are older than the grace "
                   "period (first anchoring of an existing deployment). Never after losing the anchor store "
                   "without finding out why.")
@reports_errors
def audit_anchor(adopt: bool) -> None:
    """Sign every chain up to its head into the anchor store, outside the database (kehu also does
    it every KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS)."""
    settings = _audit_settings()
    anchored = _run(_with_database(settings, lambda: audit_service.anchor_all(Context.system("cli:audit"),
                                                                              adopt=adopt)))
    click.echo(f"anchored {len(anchored)} chain(s)" + "".join(f"\n  {slug}: position {seq}" for slug, seq in anchored))


@audit.command("public-key")
@reports_errors
def audit_public_key() -> None:
    """Print the public half of the anchor signing key (base64url): give it to whoever verifies
    anchors elsewhere (KEHU_AUDIT_ANCHOR_PUBLIC_KEYS)."""
    from core.audit.anchors import anchoring, public_key_text

    _audit_settings()
    signing = anchoring().keys.signing
    if signing is None:
        raise KehuError("AUDIT_ANCHOR_KEY_MISSING", "no anchor signing key is configured", "未配置审计锚点签名密钥")
    click.echo(public_key_text(signing.public_key()))


@audit.command("prune")
@reports_errors
def audit_prune() -> None:
    """Anchor, sign the new base, then delete entries older than each tenant's retention from the
    start of its chain (as the owner)."""
    settings = _audit_settings()
    pruned = _run(_with_owner_database(settings, lambda: audit_service.prune_all(Context.system("cli:audit"))))
    click.echo(f"pruned {sum(n for _, n in pruned)} entries" + "".join(f"\n  {slug}: {n}" for slug, n in pruned))


@cli.group()
def customers() -> None:
    """Import customer records."""


@customers.command("reindex")
@click.option("--tenant", "slug", help="Only this tenant (default: every tenant).")
@reports_errors
def customers_reindex(slug: str | None) -> None:
    """Rebuild the customers' match keys and name-search index from their records (after upgrading
    to a release that indexes names: customers written before are found by name only afterwards).
    Safe to rerun; shows progress."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from core.customers import service as customer_service
    from core.tenancy.every_tenant import tenant_ids

    settings = _settings()

    async def work() -> int:
        from core.privacy.crypto import configure_data_keys

        configure_data_keys(settings)
        ids = [(await tenancy.get_tenant(Context.system(), slug)).id] if slug else await tenant_ids("cli:reindex")
        total = 0
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
            task = bar.add_task("tenants", total=len(ids))
            for tenant_id in ids:
                total += await customer_service.rebuild_match_keys(tenant_id)
                bar.advance(task)
        return total

    click.echo(f"reindexed {_run(_with_database(settings, work))} customer(s)")


@customers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--tenant", "slug", required=True, help="The tenant's slug.")
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@click.option("--mode", type=click.Choice(["all-or-nothing", "skip-bad-rows"]), default="skip-bad-rows",
              show_default=True, help="Whether one bad row stops the whole import.")
@click.option("--as", "as_user", metavar="USERNAME",
              help="Record the import as this user's (history, audit) and give them rows without an owner.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write the bad rows (line, field, code, message) to this CSV file.")
@reports_errors
def customers_import(file: str, slug: str, dry_run: bool, mode: str, as_user: str | None,
                     report_path: str | None) -> None:
    """Import customers from FILE (.csv or .xlsx, columns as in the integrators' guide), with a
    progress bar; bad rows are listed with their line and code."""
    from pathlib import Path

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from core.customers import importing
    from core.identity.tables import User
    from core.db import unit_of_work

    settings = _settings()
    data = Path(file).read_bytes()

    async def work() -> importing.ImportReport:
        registry = load_verticals(settings.disabled_plugins)
        install_catalog(registry.permissions)
        tenant = await tenancy.get_tenant(Context.system(), slug)
        ctx, owner = Context.system("cli", tenant.id), None
        if as_user:
            async with unit_of_work(ctx, write=False) as uow:
                user = await uow.select(User.id).where(
                    (User.username == as_user.lower()) & (User.status == "active")).first()
            if user is None:
                raise KehuError("OWNER_UNKNOWN", f"no active user {as_user!r} in tenant {slug}")
            ctx, owner = Context.system(f"user:{user['id']}", tenant.id), user["id"]
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=console, transient=False) as bar:
            task = bar.add_task("reading file", total=None)

            async def progress(done: int, total: int, message: str) -> None:
                bar.update(task, completed=done, total=total, description=message)

            return await importing.import_customers(ctx, registry, data, Path(file).name, mode=mode,
                                                    dry_run=dry_run, progress=progress, default_owner=owner)

    report = _run(_with_database(settings, work))
    for error in report.errors[:50]:
        click.echo(f"line {error.line}: {error.field or '-'} {error.code} {error.message}")
    if len(report.errors) > 50:
        click.echo(f"… and {len(report.errors) - 50} more (--report FILE writes them all)")
    if report_path:
        Path(report_path).write_text(report.as_csv(), encoding="utf-8")
    verb = "would import" if dry_run else "imported"
    count = report.valid if dry_run else report.imported
    click.echo(f"{verb} {count} of {report.rows} rows; {report.bad_rows} bad" + (
        " (all-or-nothing: nothing imported)" if mode == "all-or-nothing" and report.errors and not dry_run else ""))
    if report.errors and (mode == "all-or-nothing" or dry_run):
        raise click.exceptions.Exit(1)


@cli.group()
def privacy() -> None:
    """Personal data at rest."""


@privacy.command("rekey")
@click.option("--tenant", "slug", help="One tenant's slug (default: every tenant).")
@reports_errors
def privacy_rekey(slug: str | None) -> None:
    """Re-encrypt personal data under the first key of KEHU_DATA_KEYS (after a rotation, or to seal
    rows written before encryption); rows already on it are skipped, so it can be run again."""
    from core.privacy import rekey
    from core.tenancy.every_tenant import tenant_ids

    settings = _settings()

    async def work() -> list[tuple[str, dict[str, int]]]:
        registry = load_verticals(settings.disabled_plugins)
        start_verticals(registry)  # extension fields' privacy classes
        ids = [(await tenancy.get_tenant(Context.system(), slug)).id] if slug else await tenant_ids("cli:privacy")
        return [(str(tenant_id), await rekey.rekey_tenant(Context.system("cli:privacy", tenant_id)))
                for tenant_id in ids]

    for tenant, changed in _run(_with_database(settings, work)):
        click.echo(f"{tenant}: " + ", ".join(f"{label} {n}" for label, n in changed.items()))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@reports_errors
def plugins(as_json: bool) -> None:
    """List the vertical plugins that loaded (KEHU_DISABLED_PLUGINS blocks some)."""
    settings = _settings()
    registry = load_verticals(settings.disabled_plugins)
    if as_json:
        click.echo(json.dumps({"loaded": [{"id": v.id, "name_zh": v.name_zh, "name_en": v.name_en,
                                           "version": v.version} for v in registry.verticals],
                               "blocked": list(registry.blocked)}, ensure_ascii=False))
        return
    table = RichTable("id", "name (zh-CN)", "name (en)", "version")
    for v in registry.verticals:
        table.add_row(v.id, v.name_zh, v.name_en, v.version)
    console.print(table)
    if registry.blocked:
        click.echo(f"blocked: {', '.join(registry.blocked)}")


async def _seed_demo(settings: Settings) -> list[str]:
    """One demo tenant per loaded vertical, with two departments, its vertical enabled and realistic
    data of it (gateway.demo_data); safe to run again: what exists is left alone."""
    from gateway.demo_data import seed_tenant

    registry = load_verticals(settings.disabled_plugins)
    install_catalog(registry.permissions)  # the verticals' permissions, as the app does at start
    start_verticals(registry)  # the plugins' services (ledger entries, parameters) use these verticals
    system = Context.system("cli:demo")
    existing = {t.slug: t.id for t in await tenancy.list_tenants(system)}
    slugs = []
    for vertical in registry.ids():
        slug, name = DEMO_TENANTS.get(vertical, (f"demo-{vertical.replace('_', '-')}", f"演示·{vertical}"))
        slugs.append(slug)
        if slug not in existing:
            existing[slug] = (await tenancy.create_tenant(system, slug=slug, name=name, departments=DEMO_DEPARTMENTS,
                                                          admin=DEMO_ADMIN)).id
        with console.status(f"demo data for {slug}…"):
            await seed_tenant(existing[slug], vertical, registry)
    return slugs


@cli.command()
@click.option("--port", type=int, help="Port to listen on [default 8000].")
@click.option("--no-serve", is_flag=True, help="Prepare the demo database and exit.")
@reports_errors
def demo(port: int | None, no_serve: bool) -> None:
    """Migrate the embedded database, create a demo tenant per vertical and serve GraphiQL."""
    from gateway import demo_data

    settings = _settings(port=port)
    if not no_serve:
        before_serving(settings)  # a busy port or a running kehu on this file: refused before migrating
    report = _run(run_migrations(settings))
    slugs = _run(_with_database(settings, lambda: _seed_demo(settings)))
    address = f"http://{settings.host}:{settings.port}"
    click.echo(
        "\n".join(
            [
                f"kehu {'(embedded profile)' if settings.is_embedded else ''} — database {settings.database.redacted}"
                + (f", {len(report.applied)} migration(s) applied" if report.applied else ""),
                f"  GraphiQL:      {address}/graphql",
                f"  Web console:   {address}/console/  (for tenants' staff; sign in with the tenant, user and password below)",
                f"  Readiness:     {address}/readyz",
                f"  Demo tenants:  {', '.join(slugs)} (each with {demo_data.CUSTOMERS_PER_TENANT} customers of its "
                "vertical; the automotive one with sales archives)",
                f"  Sign in:       with the bar at the top of GraphiQL: tenant {slugs[0] if slugs else 'demo-automotive'}, "
                f"user {DEMO_ADMIN.username}, password {DEMO_ADMIN.password}",
                f"  Log in:        in GraphiQL run  mutation {{ login(tenant: \"{slugs[0] if slugs else 'demo-automotive'}\", "
                f"username: \"{DEMO_ADMIN.username}\", password: \"{DEMO_ADMIN.password}\") {{ accessToken errors {{ code }} }} }}",
                "                 then send the token as the header  Authorization: Bearer <accessToken>",
                f"                 (every demo tenant has the user {DEMO_ADMIN.username!r} with that password)",
                *([f"  Real estate:   demo-real-estate's sales office {demo_data.OFFICE}: sign in as "
                   f"{', '.join(demo_data.SALES_OFFICE_STAFF)} (same password); see docs/operators.md"]
                  if "demo-real-estate" in slugs else []),
                *([f"  Dealer floor:  demo-automotive's sales floor: sign in as "
                   f"{', '.join(demo_data.DEALER_STAFF)} (same password); see docs/automotive.md"]
                  if "demo-automotive" in slugs else []),
            ]
        )
    )
    if not no_serve:
        _serve(settings)


@cli.command()
@click.option("--check", is_flag=True,
              help="Print nothing but a verdict; exit 1 (with a diff) when the SDL file is not the schema the "
                   "code builds.")
@click.option("--path", "sdl_path", default="schema.graphql", show_default=True,
              type=click.Path(dir_okay=False), help="The committed SDL file that --check compares.")
@reports_errors
def schema(check: bool, sdl_path: str) -> None:
    """Print the GraphQL schema (SDL) that this code and its loaded verticals serve; with --check,
    fail when the committed schema.graphql is stale (CI runs it)."""
    from difflib import unified_diff
    from pathlib import Path

    from gateway.graphql.schema import build_schema

    sdl = build_schema(_settings()).as_str() + "\n"
    if not check:
        click.echo(sdl, nl=False)
        return
    path = Path(sdl_path)
    committed = path.read_text(encoding="utf-8") if path.is_file() else ""
    if committed == sdl:
        click.echo(f"{path} is up to date")
        return
    diff = list(unified_diff(committed.splitlines(), sdl.splitlines(), f"{path} (committed)", "schema (code)",
                             lineterm="", n=1))
    for line in diff[:80]:
        click.echo(line, err=True)
    if len(diff) > 80:
        click.echo(f"… {len(diff) - 80} more lines of diff", err=True)
    raise KehuError("SCHEMA_STALE",
                    f"{path} is stale: it is not the schema the code builds; regenerate it with "
                    f"`kehu schema > {path}` and commit it",
                    f"{path} 已过期：与代码生成的 schema 不一致；请用 `kehu schema > {path}` 重新生成并提交")


@cli.group()
def calendar() -> None:
    """The official holiday schedules (国务院节假日安排) that working-day deadlines follow."""


@calendar.command("load")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@reports_errors
def calendar_load(path: str) -> None:
    """Load one year's official schedule from PATH (JSON; format in docs/operators.md), validated,
    for every tenant; deadlines that counted that year's provisional days are recomputed."""
    from core.calendar import schedules
    from core.archives import lifecycle, reconciliation  # noqa: F401 - register their recomputes
    from core.privacy import subject_requests  # noqa: F401 - registers its recompute

    settings = _settings()
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    report = _run(_with_database(settings, lambda: schedules.load_schedule(Context.system("cli:calendar"), text)))
    click.echo(f"{'replaced' if report.replaced else 'loaded'} the official schedule of {report.year}: "
               f"{report.holidays} holidays, {report.workdays} make-up working days")
    for name, count in report.recomputed.items():
        click.echo(f"recomputed {count} {name.replace('_', ' ')} due date(s)")


@calendar.command("status")
@reports_errors
def calendar_status() -> None:
    """Years loaded, and whether the next 90 days hold provisional days."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from core.calendar import schedules

    async def work() -> tuple[list[dict[str, Any]], dict[str, object] | None]:
        official = await schedules.read_official_calendar()
        today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai")).date()
        return await schedules.loaded_years(), schedules.provisional_warning(official, today)

    years, warning = _run(_with_database(_settings(), work))
    for row in years:
        click.echo(f"{row['year']}: loaded {row['loaded_at']:%Y-%m-%d} by {row['loaded_by']} {row['notice']}".rstrip())
    if not years:
        click.echo("no official schedule loaded; years the library knows and provisional ones apply")
    click.echo(f"warning: {warning['message']}" if warning else "the next 90 days hold no provisional days")


def _backup_progress(description: str) -> Any:
    """A progress bar on a terminal; nothing when the output is a file or a pipe."""
    from contextlib import nullcontext

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not console.is_terminal:
        return nullcontext(None)
    return Progress(TextColumn(description + " {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True)


@cli.command()
@click.option("--tenant", "slug", help="One tenant's slug (default: every tenant).")
@click.option("--output", "output", type=click.Path(dir_okay=False, writable=True),
              help="The file to write [default: KEHU_BACKUP_DIR or the current directory, named after the "
                   "tenant and the time].")
@reports_errors
def backup(slug: str | None, output: str | None) -> None:
    """Write a consistent, encrypted (KEHU_BACKUP_KEY), checksummed backup of one tenant or of all
    (docs/backups.md); a failed backup leaves no file."""
    from datetime import UTC, datetime
    from pathlib import Path

    from core.backup.format import parse_key
    from core.backup.service import write_backup

    settings = _settings()
    key = parse_key(settings.backup_key)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = Path(output) if output else (settings.backup_dir or Path(".")) / f"{slug or 'all'}-{stamp}.kehu-backup"

    async def work() -> Any:
        load_verticals(settings.disabled_plugins)  # their table classes, so their tables are discovered
        with _backup_progress("backing up") as bar:
            task = bar.add_task("", total=None) if bar else None

            async def progress(done: int, total: int, message: str) -> None:
                if bar is not None:
                    bar.update(task, completed=done, total=total, description=message)

            return await write_backup(path, key, slug=slug, progress=progress)

    report = _run(_with_owner_database(settings, work))
    click.echo(f"backed up {', '.join(report.tenants) or 'no tenant'}: {sum(report.rows.values())} rows in "
               f"{len(report.rows)} tables to {report.path} ({report.size} bytes, sha256 {report.sha256})")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--as-new-tenant", "as_slug", metavar="SLUG",
              help="Restore the backup's one tenant under this slug (same tenant id and rows: into a database "
                   "where the original tenant is not; docs/backups.md).")
@click.option("--rewind-anchors", is_flag=True,
              help="When the tenant's signed audit anchors reach past the backup (entries made after it are "
                   "lost), set those anchors aside (kept, renamed) and anchor the restored chain afresh.")
@reports_errors
def restore(file: str, as_slug: str | None, rewind_anchors: bool) -> None:
    """Restore FILE into this database in one transaction: checksum and key checked first, existing
    tenants never overwritten, customers erased since the backup erased again (docs/backups.md)."""
    from pathlib import Path

    from core.audit.anchors import configure_audit_anchors
    from core.backup.format import parse_key
    from core.backup.service import restore_backup
    from core.privacy.crypto import configure_data_keys

    settings = _settings()
    key = parse_key(settings.backup_key)
    configure_audit_anchors(settings)
    configure_data_keys(settings)  # re-applied erasures open the sealed columns

    async def work() -> Any:
        registry = load_verticals(settings.disabled_plugins)
        install_catalog(registry.permissions)
        start_verticals(registry)
        with _backup_progress("restoring") as bar:
            task = bar.add_task("", total=None) if bar else None

            async def progress(done: int, total: int, message: str) -> None:
                if bar is not None:
                    bar.update(task, completed=done, total=total, description=message)

            return await restore_backup(Path(file), key, registry, as_slug=as_slug, rewind_anchors=rewind_anchors,
                                        progress=progress)

    report = _run(_with_owner_database(settings, work))
    click.echo(f"restored {', '.join(report.tenants)} from the backup of {report.created_at}: "
               f"{sum(report.rows.values())} rows; {report.erasures_reapplied} erasure(s) made since re-applied")


def main() -> None:
    cli(prog_name="kehu")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
