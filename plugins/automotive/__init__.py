"""The automotive dealers vertical (seed 000 part 1: 客户档案管理制度 of a 4S dealer; seed 003 R6: the
sales floor of a 4S dealer; seed 002 part 1: the dealer's customer database).

The entry point ``plugins.automotive`` is this module. Its hooks gather the plain data of its parts:

- ``rules``: the archive standards, checks and customer fields of seed 000 (policies in ``checks``,
  VIN and plate validation in ``vehicles``);
- ``penalties``: the penalty ledger every fine of R6 lands in (configurable amounts, never a pay
  deduction);
- ``leads`` (pure) with ``cards``: lead cards (三表卡 / A card) and the walk-in / call-in register (R6-1
  to R6-14, S17), their ownership on the attribution ledger;
- ``orders``: orders, the delivery queue and payment-gated release (R6-18 to R6-27, R6-34, R6-35, R6-37);
- ``stock``: vehicles, keys, test drives and inventory reports (R6-45 to R6-60);
- ``database``: the customer database rules of seed 002 part 1 and customer-data lending (R6-61 to R6-63);
- ``database_ops``: the database's monthly backup register (R1-08) and change / extract applications (R1-04, R1-09);
- ``reports``: the R6 KPIs and reports.

docs/automotive.md maps every rule to what enforces it.
"""

from __future__ import annotations

import importlib
from typing import Any

from core.plugins import VerticalInfo, hookimpl

VERSION = "0.4.0"

# Each part is a module of this package; a part declares what it has of PERMISSIONS, PARAMETERS,
# TABLES, MIGRATIONS, GRAPHQL (GraphQLTypes), EVENT_TYPES, PERSONAL_DATA, ISOLATION_OPERATIONS,
# ATTRIBUTION_POLICIES. Parts not written yet are skipped, so each can land on its own.
_PART_NAMES = ("rules", "roles", "penalties", "penalties_graphql", "cards", "cards_graphql", "orders", "orders_graphql", "activities", "activities_graphql", "marketing", "marketing_graphql", "stock", "stock_graphql", "database", "database_graphql", "database_ops", "database_ops_graphql", "reports", "reports_graphql")


def _parts() -> list[Any]:
    found = []
    for name in _PART_NAMES:
        try:
            found.append(importlib.import_module(f"plugins.automotive.{name}"))
        except ModuleNotFoundError as error:
            if error.name != f"plugins.automotive.{name}":
                raise
    return found


PARTS = _parts()


def _gather(attribute: str) -> list[Any]:
    return [item for part in PARTS for item in getattr(part, attribute.upper(), ())]


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="automotive", name_zh="汽车经销商", name_en="Automotive dealers", version=VERSION)


@hookimpl
def kehu_permissions():
    return _gather("permissions")


@hookimpl
def kehu_parameters():
    return _gather("parameters")


@hookimpl
def kehu_archive_standards():
    return _gather("archive_standards")


@hookimpl
def kehu_customer_fields():
    return _gather("customer_fields")


@hookimpl
def kehu_attribution_policy():
    return _gather("attribution_policies")


@hookimpl
def kehu_grading_schemes():
    return _gather("grading_schemes")


@hookimpl
def kehu_tables():
    return _gather("tables")


@hookimpl
def kehu_migrations():
    return sorted(_gather("migrations"), key=lambda m: m.version)


@hookimpl
def kehu_graphql_types():
    return _gather("graphql")


@hookimpl
def kehu_event_types():
    return _gather("event_types")


@hookimpl
def kehu_personal_data():
    return _gather("personal_data")


@hookimpl
def kehu_isolation_operations():
    return _gather("isolation_operations")
