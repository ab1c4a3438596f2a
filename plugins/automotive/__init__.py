"""The automotive dealers vertical (seed 000 part 1: 客户档案管理制度 of a 4S dealer).

The entry point ``plugins.automotive`` is this module; its hooks return the plain data of
``plugins.automotive.rules``; the archive-check policies are in ``checks``, VIN and plate
validation in ``vehicles``, and the lead-card rules of seed-003 R6 in ``leads``.
"""

from core.plugins import VerticalInfo, hookimpl
from plugins.automotive import rules

VERSION = "0.3.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="automotive", name_zh="汽车经销商", name_en="Automotive dealers", version=VERSION)


@hookimpl
def kehu_permissions():
    return rules.PERMISSIONS


@hookimpl
def kehu_parameters():
    return rules.PARAMETERS


@hookimpl
def kehu_archive_standards():
    return rules.ARCHIVE_STANDARDS


@hookimpl
def kehu_customer_fields():
    return rules.CUSTOMER_FIELDS
