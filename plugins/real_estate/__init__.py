"""The real-estate sales-office vertical (seed 000 part 2, RE1–RE36; seed 002 part 4; seed 001 S08).

- ``rules``: permissions, parameters, the grading scheme and the attribution policy (``attribution``:
  the pure decision tree of RE8–RE31 over core's attribution ledger);
- ``queue`` (with ``queue_tables``, ``queue_graphql``): the reception queue per office and day;
- ``management`` (with ``management_tables``, ``management_graphql``): follow-up plans, SMS
  campaigns, violations and reports;
- ``complaints``: the property-management complaint flow (seed 003 R10).

docs/real-estate.md maps every rule to what enforces it.
"""

from core.plugins import GraphQLTypes, VerticalInfo, hookimpl
from plugins.real_estate import complaints, management, management_tables, queue, queue_tables, rules
from plugins.real_estate.management_graphql import ManagementMutation, ManagementQuery
from plugins.real_estate.queue_graphql import QueueMutation, QueueQuery

VERSION = "0.3.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="real_estate", name_zh="房地产销售", name_en="Real-estate sales", version=VERSION)


@hookimpl
def kehu_permissions():
    return (*rules.PERMISSIONS, *complaints.PERMISSIONS, *queue.PERMISSIONS, *management.PERMISSIONS)


@hookimpl
def kehu_parameters():
    return (*rules.PARAMETERS, *queue.PARAMETERS, *management.PARAMETERS)


@hookimpl
def kehu_attribution_policy():
    return rules.ATTRIBUTION


@hookimpl
def kehu_grading_schemes():
    return rules.GRADING


@hookimpl
def kehu_complaint_flows():
    return complaints.FLOWS


@hookimpl
def kehu_tables():
    return (*queue_tables.TABLES, *management_tables.TABLES)


@hookimpl
def kehu_migrations():
    return (*queue_tables.MIGRATIONS, *management_tables.MIGRATIONS)


@hookimpl
def kehu_graphql_types():
    return [GraphQLTypes(query=QueueQuery, mutation=QueueMutation),
            GraphQLTypes(query=ManagementQuery, mutation=ManagementMutation)]


@hookimpl
def kehu_event_types():
    return (*queue.EVENT_TYPES, *management.EVENT_TYPES)


@hookimpl
def kehu_personal_data():
    return (*queue.PERSONAL_DATA, *management.PERSONAL_DATA)


@hookimpl
def kehu_isolation_operations():
    return (*queue.ISOLATION_OPERATIONS, *management.ISOLATION_OPERATIONS)
