"""The medical-device distributors vertical. For now it only names itself; its rules arrive with their issues."""

from core.plugins import VerticalInfo, hookimpl

VERSION = "0.1.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="medical_devices", name_zh="医疗器械经销", name_en="Medical-device distributors", version=VERSION)
