"""The real-estate sales-office vertical (seed 000 part 2, seed 002 part 4: reception and attribution).

The attribution engine that runs ``rules.ATTRIBUTION`` arrives with its own issue.
"""

from core.plugins import VerticalInfo, hookimpl
from plugins.real_estate import complaints, rules

VERSION = "0.2.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="real_estate", name_zh="房地产销售", name_en="Real-estate sales", version=VERSION)


@hookimpl
def kehu_permissions():
    return (*rules.PERMISSIONS, *complaints.PERMISSIONS)


@hookimpl
def kehu_parameters():
    return rules.PARAMETERS


@hookimpl
def kehu_attribution_policy():
    return rules.ATTRIBUTION


@hookimpl
def kehu_grading_schemes():
    return rules.GRADING


@hookimpl
def kehu_complaint_flows():
    return complaints.FLOWS
