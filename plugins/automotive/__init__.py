"""The automotive dealers vertical (seed 000 part 1: 客户档案管理制度 of a 4S dealer).

The entry point ``plugins.automotive`` is this module; its hooks return the plain data of
``plugins.automotive.rules``. The archive engine that consumes them arrives with its own issue.
"""

from core.plugins import VerticalInfo, hookimpl
from plugins.automotive import rules

VERSION = "0.2.0"


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
