"""The medical-device distributors vertical (seed 000 part 3: admission, grading, blacklist, visits;
seed 003 R2, R3, R14: the product-quality complaint flow, ``complaints.py``).

The grading engine that consumes ``rules.GRADING`` arrives with its own issue.
"""

from core.plugins import VerticalInfo, hookimpl
from plugins.medical_devices import complaints, rules

VERSION = "0.2.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="medical_devices", name_zh="医疗器械经销", name_en="Medical-device distributors", version=VERSION)


@hookimpl
def kehu_permissions():
    return (*rules.PERMISSIONS, *complaints.PERMISSIONS)


@hookimpl
def kehu_parameters():
    return rules.PARAMETERS


@hookimpl
def kehu_grading_schemes():
    return rules.GRADING


@hookimpl
def kehu_visit_plans():
    return rules.VISITS


@hookimpl
def kehu_complaint_flows():
    return complaints.FLOWS
