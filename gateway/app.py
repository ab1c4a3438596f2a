"""The Litestar application factory: GraphQL at /graphql, health at /healthz and /readyz, Prometheus
metrics at /metrics (when ``KEHU_METRICS_ENABLED``; docs/observability.md)."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from litestar import Litestar, Request, Response, post, route
from litestar.background_tasks import BackgroundTasks
from litestar.di import Provide
from litestar.enums import HttpMethod
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.status_codes import HTTP_200_OK, HTTP_413_REQUEST_ENTITY_TOO_LARGE, HTTP_500_INTERNAL_SERVER_ERROR
from strawberry.http import GraphQLHTTPResponse
from strawberry.litestar import make_graphql_controller
from cross_web import HTTPException
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from core.db import Database, use_database
from core.logging import configure_logging
from core.plugins.manager import VerticalRegistry, load_verticals
from core.settings import Settings, load_settings
from core.identity.permissions import install_catalog
from core.background import configure_background_work
from core.privacy.crypto import configure_data_keys
from core.jobs.long_jobs import configure_long_jobs, run_job_loop
from core.jobs.broker import EMBEDDED
from core.jobs.outbox import configure_jobs
from core.webhooks.delivery import configure_delivery
from core.plugins.manager import configure_hook_timeout
from core.webhooks.delivery import drain as drain_webhooks
from core.webhooks.targets import configure_webhooks
from core.audit.anchors import configure_audit_anchors
from core.jobs.timers import start_scheduler, stop_scheduler
from core.jobs.worker import run_embedded_worker
from core.identity.runtime import configure_identity
from gateway.audit_export import export_audit
from gateway.job_output import download_export, download_job_output
from gateway.auth import authentication_middleware
from gateway.graphiql import assets_router, page_response
from gateway.staff_console import CONSOLE_HANDLERS
from gateway.graphql.context import get_context
from gateway.graphql.errors import CodedHTTPErrors, shape_error
from gateway.idempotency import IdempotentMutations
from gateway.graphql.schema import build_schema
from gateway.health import healthz, readyz
from gateway.language import negotiate
from gateway.metrics import MeasuredGraphQL, metrics
from gateway.rate_limits import STORE_NAME, rate_limit_configs, rate_limit_store
from gateway.request_body import body_too_large, internal_error
from gateway.request_id import current_request_id, request_id_middleware

log = structlog.get_logger("kehu.app")


_SUB_RESPONSE_KEY = "kehu_graphql_response"


def _new_response() -> Response:
    return Response({}, background=BackgroundTasks([]))


async def _no_root_value(response: Response) -> None:
    return None


def _graphql_controller(settings: Settings, registry: VerticalRegistry) -> type:
    schema = build_schema(settings, registry)
    base = make_graphql_controller(
        schema,
        path="/graphql",
        graphql_ide="graphiql" if settings.is_embedded else None,
        allow_queries_via_get=False,  # no state-changing or costly work through cacheable GETs
    )

    # MeasuredGraphQL outermost: every answer is counted and timed, refusals too.
    # IdempotentMutations next: a replayed or refused request never reaches execution.
    class GraphQLController(MeasuredGraphQL, IdempotentMutations, CodedHTTPErrors, base):  # type: ignore[misc, valid-type]
        kehu_settings = settings
        # Per request, Strawberry builds the response object in a worker thread and resolves its
        # independent dependencies in an anyio task group; both cost more than the work itself.
        # Chaining them (response -> root value -> context) resolves each inline on the loop.
        dependencies = {
            **base.dependencies,
            "response": Provide(_new_response, sync_to_thread=False),
            "root_value": Provide(_no_root_value),
            "context": Provide(get_context),
        }

        @post(status_code=HTTP_200_OK)
        async def handle_http_post(self, request: Request) -> Response:
            # Strawberry's handler keeps the request's response object on the controller, which
            # every request shares, and reads it back later: a request that awaited in between
            # (an idempotency claim) took another request's status and headers. Each request's
            # own is kept in its scope. Made here, not by dependency injection, which cost more
            # than the rest of a small request's GraphQL handling.
            response = _new_response()
            request.scope.setdefault("state", {})[_SUB_RESPONSE_KEY] = response
            context = await get_context(request, response, None)
            return await self.execute_request(request=request, context=context, root_value=None)

        async def run(self, request: Request, context: Any = UNSET, root_value: Any = UNSET) -> Response:
            # A plain POST (every integrator's request) answers with one result: kehu's schema has
            # no subscriptions and no incremental delivery, and a batch is refused while parsing.
            # Strawberry's run checks per request for a websocket, the IDE page and a streamed
            # result (one check is against a runtime Protocol, dearer than the operation's cached
            # validation); anything else still goes its way.
            accept = request.headers.get("accept", "")
            if (request.scope["type"] != "http" or request.method != "POST" or context is UNSET
                    or "multipart" in accept or "event-stream" in accept):
                return await super().run(request, context=context, root_value=root_value)
            adapter = self.request_adapter_class(request)
            sub_response = await self.get_sub_response(request)
            try:
                request_data = await self.parse_http_body(adapter)
            except json.JSONDecodeError as error:
                raise HTTPException(400, "Unable to parse request body as JSON") from error
            except KeyError as error:  # a multipart upload naming a file it does not hold
                raise HTTPException(400, "File(s) missing in form data") from error
            result = await self.execute_operation(request=request, request_adapter=adapter, request_data=request_data,
                                                  context=context, root_value=root_value, sub_response=sub_response)
            if not isinstance(result, ExecutionResult):  # never for this schema; refused rather than guessed at
                raise HTTPException(400, "this request asks for a streamed or batched answer kehu does not give")
            response_data = await self.process_result(request=request, result=result)
            if result.errors:
                self._handle_errors(result.errors, response_data)
            return self.create_response(response_data=response_data, sub_response=sub_response)

        async def get_sub_response(self, request: Request) -> Response:
            state = request.scope.get("state", {})
            if _SUB_RESPONSE_KEY in state:
                return state[_SUB_RESPONSE_KEY]
            return await super().get_sub_response(request)  # GraphiQL's page (GET)

        async def render_graphql_ide(self, request: Request) -> Response[str]:
            return page_response()  # kehu's own page and assets: no CDN, works offline (issue 17 point 6)

        async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
            response: dict[str, Any] = {"data": result.data}
            if result.errors:
                language = negotiate(request.headers.get("accept-language", ""))
                request_id = current_request_id()
                # Field suggestions only for callers who may introspect the schema anyway.
                suggestions = settings.introspection_enabled and request.scope.get("auth") is not None
                response["errors"] = [shape_error(e, request_id, language, suggestions=suggestions,
                                                   schema=schema._schema)
                                      for e in result.errors]
            if result.extensions:
                response["extensions"] = result.extensions
            self.errors_counted(request, response)
            return response  # type: ignore[return-value]

        @route(http_method=HttpMethod.OPTIONS, include_in_schema=False)
        async def allowed_methods(self) -> Response:
            # Litestar's own answer lists GET only: it is made before POST joins the route.
            return Response(None, status_code=204, headers={"Allow": "GET, POST, OPTIONS"})

    return GraphQLController


async def _stop_within(grace_seconds: float, *tasks: asyncio.Task[Any] | None) -> None:
    """Let the background loops finish their current work, but no longer than the grace period:
    a job still running then is cancelled (its transaction rolls back, its lease runs out and
    another process runs it again), so a stuck job can never hold shutdown forever."""
    running = [task for task in tasks if task is not None]
    if not running:
        return
    _, pending = await asyncio.wait(running, timeout=grace_seconds)
    for task in pending:
        log.warning("kehu.shutdown_forced", task=task.get_name(), grace_seconds=grace_seconds)
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)


def create_app(
    settings: Settings | None = None,
    *,
    registry: VerticalRegistry | None = None,
    database: Database | None = None,
) -> Litestar:
    """Build the app. Settings come from the environment unless given; all checks run here."""
    settings = settings or load_settings()
    configure_logging(settings)
    registry = registry or load_verticals(settings.disabled_plugins, broken=settings.broken_plugins)
    install_catalog(registry.permissions)
    configure_background_work(registry)
    configure_identity(settings)
    configure_data_keys(settings)
    configure_jobs(settings)
    configure_long_jobs(settings)
    configure_webhooks(settings)
    configure_delivery(settings)
    configure_hook_timeout(settings.plugin_hook_timeout_seconds)
    configure_audit_anchors(settings)  # production without an anchor key or directory stops here
    database = database or Database(
        settings.database, pool_size=settings.database_pool_size, busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        connect_timeout=settings.database_connect_timeout_seconds,
        statement_timeout=settings.database_statement_timeout_seconds,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        use_database(database)
        await database.start()
        stop = asyncio.Event()
        worker = scheduler = long_jobs = None
        try:
            await database.assert_safe_app_role()
            if settings.broker_url == EMBEDDED:  # jobs and timers in-process, nothing else to run
                worker = asyncio.create_task(run_embedded_worker(stop), name="kehu-embedded-worker")
                long_jobs = asyncio.create_task(run_job_loop(stop, concurrency=settings.job_concurrency),
                                                name="kehu-long-jobs")
                scheduler = start_scheduler(settings.tick_interval_seconds)
            log.info("kehu.started", profile=settings.profile.value, database=database.url.redacted,
                     verticals=list(registry.ids()), jobs="in-process" if worker else "redis")
            yield
        finally:
            stop.set()
            if scheduler is not None:
                await stop_scheduler(scheduler, settings.shutdown_grace_seconds)
            # webhook attempts in flight end before the database closes (or are resent after their lease)
            drained = asyncio.create_task(drain_webhooks(), name="kehu-webhook-drain")
            await _stop_within(settings.shutdown_grace_seconds, worker, long_jobs, drained)
            await database.close()
            log.info("kehu.stopped")

    return Litestar(
        route_handlers=[healthz, readyz, export_audit, download_job_output, download_export, _graphql_controller(settings, registry),
                        *CONSOLE_HANDLERS,  # the staff console's files, in every profile (issue 25)
                        *([metrics] if settings.metrics_enabled else []),  # never route it from a public ingress
                        *([assets_router()] if settings.is_embedded else [])],  # GraphiQL's files, where it is served
        middleware=[request_id_middleware, authentication_middleware,
                    *(config.middleware for config in rate_limit_configs(settings))],
        stores={STORE_NAME: rate_limit_store(settings)},
        cors_config=CORSConfig(allow_origins=list(settings.cors_origins)) if settings.cors_origins else None,
        request_max_body_size=settings.request_max_body_bytes,
        exception_handlers={HTTP_413_REQUEST_ENTITY_TOO_LARGE: body_too_large,  # coded and logged, never bare
                            HTTP_500_INTERNAL_SERVER_ERROR: internal_error},
        lifespan=[lifespan],
        state=State({"settings": settings, "registry": registry}),
        logging_config=None,
        openapi_config=None,
    )


def create_app_from_environment() -> Litestar:
    """Entry point for uvicorn's ``--factory`` (``gateway.app:create_app_from_environment``): the
    app of a serving process, which lives as long as the process."""
    app = create_app()
    # What start-up built (modules, the schema, the tables, the plugins) lives as long as the
    # process: out of the cycle collector's sight, a full collection no longer walks it. It took
    # ~70 ms, a stall that every request in flight waited through (P10's tail). Only here, in a
    # serving process: an app made and dropped (tests) must stay collectable.
    gc.collect()
    gc.freeze()
    return app
