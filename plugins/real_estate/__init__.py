"""The real-estate sales vertical. For now it only names itself; its rules arrive with their issues."""

from core.plugins import VerticalInfo, hookimpl

VERSION = "0.1.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="real_estate", name_zh="房地产销售", name_en="Real-estate sales", version=VERSION)
