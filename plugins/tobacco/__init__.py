"""The tobacco retail vertical (seed 001 S21 客户基础信息管理规定, seed 000 part 4.3 customer managers).

Onboarding and change deadlines are working days of the tenant's calendar.
"""

from core.plugins import VerticalInfo, hookimpl
from plugins.tobacco import rules

VERSION = "0.2.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="tobacco", name_zh="烟草零售", name_en="Tobacco retail", version=VERSION)


@hookimpl
def kehu_permissions():
    return rules.PERMISSIONS


@hookimpl
def kehu_parameters():
    return rules.PARAMETERS


@hookimpl
def kehu_visit_plans():
    return rules.VISITS
