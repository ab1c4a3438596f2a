"""The automotive dealers vertical. For now it only names itself; its rules arrive with their issues."""

from core.plugins import VerticalInfo, hookimpl

VERSION = "0.1.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="automotive", name_zh="汽车经销商", name_en="Automotive dealers", version=VERSION)
