"""The tobacco retail vertical. For now it only names itself; its rules arrive with their issues."""

from core.plugins import VerticalInfo, hookimpl

VERSION = "0.1.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="tobacco", name_zh="烟草零售", name_en="Tobacco retail", version=VERSION)
