"""Every installed vertical passes the contract suite a vertical team runs on its own plugin."""

import pytest

from core.plugins.testing import ContractSuite, assert_vertical_contract, entry_point_verticals
from plugins import medical_devices

VERTICALS = entry_point_verticals()


def test_the_four_in_repo_verticals_are_installed_entry_points():
    assert [ep.name for ep in VERTICALS] == ["automotive", "medical_devices", "real_estate", "tobacco"]


@pytest.mark.parametrize("entry_point", VERTICALS, ids=lambda ep: ep.name)
def test_each_installed_vertical_passes_the_contract(entry_point):
    definition = assert_vertical_contract(entry_point.load(), entry_point.name)
    assert definition.parameters, "every in-repo vertical gives its tenants parameters from its regulation"
    assert definition.permissions


def test_the_contract_catches_a_vertical_with_a_default_outside_its_bounds(monkeypatch):
    from core.plugins import Parameter, PluginError
    from plugins.automotive import rules

    broken = (*rules.PARAMETERS, Parameter("late_days", "integer", 40, "late", "逾期", minimum=1, maximum=30))
    monkeypatch.setattr(rules, "PARAMETERS", broken)
    import plugins.automotive as automotive

    with pytest.raises(PluginError, match=r"plugin 'automotive': parameter 'late_days': default 40 is invalid"):
        assert_vertical_contract(automotive, "automotive")


class TestMedicalDevicesThroughTheSuiteClass(ContractSuite):
    """How a vertical team uses the suite in its own distribution."""

    plugin = medical_devices
    name = "medical_devices"


def test_seed_numbers_reach_the_parameters():
    from core.plugins.testing import make_registry
    import plugins.automotive as automotive
    import plugins.medical_devices as md
    import plugins.real_estate as re_
    import plugins.tobacco as tobacco

    registry = make_registry(("automotive", automotive), ("medical_devices", md), ("real_estate", re_),
                             ("tobacco", tobacco))
    assert registry.definition("automotive").defaults()["missing_archive_deadline_days"] == 2  # A3
    assert registry.definition("automotive").defaults()["rectification_hours"] == 24  # T6
    assert registry.definition("medical_devices").defaults()["vip_cap_percent"] == 15  # MD4 d
    assert registry.definition("real_estate").defaults()["designation_first_share_percent"] == 55  # RE16
    assert registry.definition("tobacco").defaults()["importance_working_days"] == 20  # Art7.7
    grades = registry.definition("medical_devices").grading_schemes[0].grades
    assert [g.code for g in grades] == ["vip", "preferred", "qualified"]


def test_real_estate_attribution_follows_the_valid_registration():
    """RE20: the registered consultant owns while followed up within a month; after that a visit
    makes the customer the receiver's."""
    from datetime import UTC, datetime

    from core.plugins import AttributionFacts, LedgerEntry
    from plugins.real_estate.rules import ATTRIBUTION

    def entry(seq, kind, at, consultant, **data):
        return LedgerEntry(id=f"e{seq}", seq=seq, customer="c1", kind=kind, at=at, consultant=consultant,
                           data=data, confirmed=True)

    decide = ATTRIBUTION[0].decide
    registered = entry(1, "registration", datetime(2026, 1, 5, 2, tzinfo=UTC), "li")
    followed = entry(2, "follow_up", datetime(2026, 1, 20, 2, tzinfo=UTC), "li")
    kept = decide(AttributionFacts(customer="c1", entries=(registered, followed),
                                   as_of=datetime(2026, 2, 15, 2, tzinfo=UTC)), {"registration_validity_months": 1})
    assert kept.owner == "li" and kept.shares == {"li": 100} and kept.rule == "RE20"
    visit = entry(3, "visit", datetime(2026, 4, 1, 2, tzinfo=UTC), "zhao", reception="rotation")
    lapsed = decide(AttributionFacts(customer="c1", entries=(registered, followed, visit),
                                     as_of=datetime(2026, 4, 1, 3, tzinfo=UTC)), {"registration_validity_months": 1})
    assert lapsed.owner == "zhao" and "new" in lapsed.explanation_en and "li" in lapsed.explanation_en
