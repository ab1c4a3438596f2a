"""``/metrics``: Prometheus text of this process's GraphQL traffic, coded errors and background backlog.

Served on the API's own port when ``KEHU_METRICS_ENABLED`` (default true), without credentials:
scrape it from inside the cluster and never route it from a public ingress (docs/observability.md).
Labels hold only names from a fixed set (the schema's root fields, error codes); no tenant, user,
customer, address or credential ever appears in the output. The backlog gauges are read from the
database when scraped (at most every ``BACKLOG_CACHE_SECONDS``, within ``BACKLOG_TIMEOUT_SECONDS``).
Each process serves its own numbers; prometheus-client's multiprocess mode is not used.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import structlog
from graphql import GraphQLError, OperationDefinitionNode, parse
from graphql.language import FragmentDefinitionNode
from litestar import Request, Response, get
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

from core.context import Context
from core.db import unit_of_work
from core.metrics import REGISTRY, bounded_label
from core.tenancy.every_tenant import tenant_ids

log = structlog.get_logger("kehu.metrics")

OTHER = "other"
REQUESTS = Counter("kehu_graphql_requests_total", "GraphQL requests answered, by operation (its first root "
                   "field; 'other' when unknown).", ["operation"], registry=REGISTRY)
LATENCY = Histogram("kehu_graphql_request_duration_seconds", "Time to answer a GraphQL request, by operation.",
                    ["operation"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
ERRORS = Counter("kehu_errors_total", "Coded errors answered (GraphQL errors, mutation payload errors, "
                 "refusals such as RATE_LIMITED), by code.", ["code"], registry=REGISTRY)
OUTBOX_PENDING = Gauge("kehu_outbox_pending_events", "Outbox events not yet delivered (pending or dispatched), "
                       "all tenants.", registry=REGISTRY)
OUTBOX_OLDEST = Gauge("kehu_outbox_oldest_pending_age_seconds", "Age of the oldest undelivered outbox event "
                      "(0 when none).", registry=REGISTRY)
OUTBOX_DEAD = Gauge("kehu_outbox_dead_events", "Outbox events that used up their attempts (kehu jobs dead).",
                    registry=REGISTRY)
JOBS_QUEUED = Gauge("kehu_jobs_queued", "Long jobs (exports, imports) waiting for a worker.", registry=REGISTRY)
JOBS_OLDEST = Gauge("kehu_jobs_oldest_queued_age_seconds", "Age of the oldest queued long job (0 when none).",
                    registry=REGISTRY)
BACKLOG_READ_FAILURES = Counter("kehu_metrics_backlog_read_failures_total", "Scrapes whose backlog read failed "
                                "or timed out (the backlog gauges then keep their last values).", registry=REGISTRY)

BACKLOG_CACHE_SECONDS = 5.0
BACKLOG_TIMEOUT_SECONDS = 5.0
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
_MAX_CODES = 200
_codes: set[str] = set()


# --- Errors ----------------------------------------------------------------------------------------

def count_error(code: object) -> None:
    ERRORS.labels(code=bounded_label(str(code), _codes, _CODE, _MAX_CODES)).inc()


def count_response_errors(response: dict[str, Any]) -> None:
    """Count the codes of a GraphQL answer: its errors, and the payload errors of its root fields."""
    for error in response.get("errors") or ():
        if isinstance(error, dict):
            count_error((error.get("extensions") or {}).get("code") or "UNCODED")
    data = response.get("data")
    if isinstance(data, dict):
        for value in data.values():
            if isinstance(value, dict) and isinstance(value.get("errors"), list):
                for error in value["errors"]:
                    if isinstance(error, dict) and error.get("code"):
                        count_error(error["code"])


# --- Requests by operation ---------------------------------------------------------------------------

@lru_cache(maxsize=256)
def _root_field(query: str, operation_name: str | None, max_tokens: int) -> str | None:
    """The first root field (other than ``__typename``) of the operation a request runs."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == operation_name]
    if len(operations) != 1:
        return None
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    from gateway.graphql.limits import root_fields  # here: limits imports rate_limits, which imports this module

    first = None
    for field in root_fields(operations[0].selection_set, fragments):
        if field.name.value != "__typename":
            return field.name.value
        first = first or field.name.value
    return first


def root_field_names(schema: Any) -> frozenset[str]:
    """Every root field of the schema: the only values the ``operation`` label takes (with 'other')."""
    names = {"__schema", "__type", "__typename"}
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is not None:
            names |= set(root.fields)
    return frozenset(names)


@lru_cache(maxsize=None)  # bounded: the label takes the schema's root field names and "other"
def _series(operation: str) -> tuple[Any, Any]:
    """The request counter and latency histogram of one operation (``labels`` takes a lock and
    builds a key on every call)."""
    return REQUESTS.labels(operation=operation), LATENCY.labels(operation=operation)


_OPERATION_KEY = "kehu_metrics_operation"
_COUNTED_KEY = "kehu_metrics_errors_counted"


class MeasuredGraphQL:
    """GraphQL controller mixin (outermost): counts and times every request by its operation, and
    counts the codes of answers that did not come through ``process_result`` (refusals)."""

    _operation_names: frozenset[str] | None = None

    def _label(self, query: object, operation_name: object) -> str:
        names = type(self)._operation_names
        if names is None:
            names = type(self)._operation_names = root_field_names(self.schema._schema)  # type: ignore[attr-defined]
        settings = getattr(self, "kehu_settings", None)
        if not isinstance(query, str) or not isinstance(operation_name, str | None):
            return OTHER
        if settings is not None and len(query.encode()) > settings.graphql_max_document_bytes:
            return OTHER
        field = _root_field(query, operation_name, settings.graphql_max_tokens if settings else 2000)
        return field if field in names else OTHER

    async def execute_single(self, request: Request, request_adapter: Any, sub_response: Any, context: Any,
                             root_value: Any, request_data: Any) -> Any:
        request.scope.setdefault("state", {})[_OPERATION_KEY] = self._label(request_data.query,
                                                                              request_data.operation_name)
        return await super().execute_single(request, request_adapter, sub_response, context,  # type: ignore[misc]
                                            root_value, request_data)

    async def execute_request(self, request: Request, context: Any, root_value: Any) -> Response:
        started = time.perf_counter()
        response: Response | None = None
        try:
            response = await super().execute_request(request, context, root_value)  # type: ignore[misc]
            return response
        finally:
            state = request.scope.get("state", {})
            status = 500 if response is None else (response.status_code or 200)
            if _OPERATION_KEY in state or status >= 400:  # not GraphiQL's page
                operation = state.get(_OPERATION_KEY, OTHER)
                requests, latency = _series(operation)
                requests.inc()
                latency.observe(time.perf_counter() - started)
            if response is not None and status >= 400 and not state.get(_COUNTED_KEY):
                _count_refusal(response)

    @staticmethod
    def errors_counted(request: Request, response: dict[str, Any]) -> None:
        """Called by ``process_result``: count the answer's codes once."""
        request.scope.setdefault("state", {})[_COUNTED_KEY] = True
        count_response_errors(response)


def _count_refusal(response: Response) -> None:
    body = response.content
    if not isinstance(body, bytes | dict):
        return
    try:
        parsed = json.loads(body) if isinstance(body, bytes) else body
    except ValueError:
        return
    if isinstance(parsed, dict):
        count_response_errors(parsed)


# --- Background backlog, read when scraped ------------------------------------------------------------

_BACKLOG_SQL = (
    "SELECT (SELECT count(*) FROM outbox_event WHERE tenant_id = {} AND status IN ('pending', 'dispatched')) "
    "AS pending, (SELECT min(created_at) FROM outbox_event WHERE tenant_id = {} "
    "AND status IN ('pending', 'dispatched')) AS oldest_event, "
    "(SELECT count(*) FROM outbox_event WHERE tenant_id = {} AND status = 'dead') AS dead, "
    "(SELECT count(*) FROM long_job WHERE tenant_id = {} AND status = 'queued') AS queued, "
    "(SELECT min(created_at) FROM long_job WHERE tenant_id = {} AND status = 'queued') AS oldest_job")


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def read_backlog() -> None:
    """Set the backlog gauges from the database, tenant by tenant as the relay reads (a system
    context per tenant, so row-level security shows each tenant's rows; indexed counts)."""
    now = datetime.now(UTC)
    pending = dead = queued = 0
    oldest_event: datetime | None = None
    oldest_job: datetime | None = None
    for tenant_id in await tenant_ids("job:metrics"):
        async with unit_of_work(Context.system("job:metrics", tenant_id), write=False) as uow:
            row = (await uow.fetch(_BACKLOG_SQL, *([tenant_id] * 5)))[0]
        pending += int(row["pending"] or 0)
        dead += int(row["dead"] or 0)
        queued += int(row["queued"] or 0)
        if (moment := _moment(row["oldest_event"])) is not None and (oldest_event is None or moment < oldest_event):
            oldest_event = moment
        if (moment := _moment(row["oldest_job"])) is not None and (oldest_job is None or moment < oldest_job):
            oldest_job = moment
    OUTBOX_PENDING.set(pending)
    OUTBOX_DEAD.set(dead)
    OUTBOX_OLDEST.set(max(0.0, (now - oldest_event).total_seconds()) if oldest_event else 0)
    JOBS_QUEUED.set(queued)
    JOBS_OLDEST.set(max(0.0, (now - oldest_job).total_seconds()) if oldest_job else 0)


async def refresh_backlog(state: Any) -> None:
    """Read the backlog unless this app read it less than BACKLOG_CACHE_SECONDS ago (scrapes from
    several Prometheus servers, or a scrape storm, cost the database one read per interval)."""
    read_at = getattr(state, "metrics_backlog_read_at", None)
    if read_at is not None and time.monotonic() - read_at < BACKLOG_CACHE_SECONDS:
        return
    state.metrics_backlog_read_at = time.monotonic()
    try:
        await asyncio.wait_for(read_backlog(), BACKLOG_TIMEOUT_SECONDS)
    except Exception as error:  # noqa: BLE001 - a scrape never fails on the backlog; the gauges keep their values
        BACKLOG_READ_FAILURES.inc()
        log.warning("metrics.backlog_read_failed", error=repr(error))


@get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response[bytes]:
    await refresh_backlog(request.app.state)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
