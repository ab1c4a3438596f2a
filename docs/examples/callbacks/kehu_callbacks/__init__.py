"""kehu-callbacks: a vertical that keeps customers' callback requests, each due a number of working
days after it is received (a tenant parameter), on the tenant's own working-day calendar; a tick
marks the late ones overdue. It imports only ``core.plugins``."""

from core.plugins import (
    GraphQLTypes,
    IsolationOperation,
    Parameter,
    Permission,
    PersonalDataTable,
    VerticalInfo,
    hookimpl,
)
from kehu_callbacks import service  # noqa: F401 - registers the tick work
from kehu_callbacks.graphql import CallbacksMutation, CallbacksQuery
from kehu_callbacks.tables import MIGRATIONS, CallbackRequest


@hookimpl
def kehu_vertical_info():
    return VerticalInfo(id="callbacks", name_zh="客户回访请求", name_en="Callback requests", version="1.0.0")


@hookimpl
def kehu_permissions():
    return [Permission("callbacks.request.read", "read callback requests", "查看回访请求"),
            Permission("callbacks.request.write", "record callback requests", "登记回访请求")]


@hookimpl
def kehu_parameters():
    return [Parameter("answer_days", "integer", 2, "Working days to call a customer back", "回访期限（工作日）",
                      minimum=1, maximum=30, unit="working days")]


@hookimpl
def kehu_tables():
    return [CallbackRequest]


@hookimpl
def kehu_migrations():
    return MIGRATIONS


@hookimpl
def kehu_graphql_types():
    return [GraphQLTypes(query=CallbacksQuery, mutation=CallbacksMutation)]


@hookimpl
def kehu_personal_data():
    return [PersonalDataTable("callbacks_request", "customer_id", ("subject", "phone"), erase="delete")]


@hookimpl
def kehu_isolation_operations():
    return [
        IsolationOperation('mutation($mark: String!) { callbacksRequestAdd(subject: $mark) '
                           '{ request { id subject } errors { code } } }', makes=("callbacks_request", "request.id")),
        IsolationOperation("{ callbacksRequests { id subject } }", lists=("callbacks_request", "*.id")),
        IsolationOperation("query($id: ID!) { callbacksRequest(id: $id) { id subject } }",
                           ids=(("id", "callbacks_request"),)),
    ]
