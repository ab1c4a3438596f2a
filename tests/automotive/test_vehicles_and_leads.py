"""VIN and plate validation, the lead-card rules of seed-003 R6, the dserp customer fields (D1),
schedules and retention as declared."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

import plugins.automotive as automotive
from core.plugins.testing import ContractSuite
from plugins.automotive import leads, rules, vehicles
from plugins.automotive.leads import FollowUp, LeadCard

REAL_VINS = ["1M8GDM9AXKP042788", "1HGCM82633A004352", "LSGPC52U6AF102554", "11111111111111111"]


class TestAutomotiveContract(ContractSuite):
    plugin = automotive
    name = "automotive"


@pytest.mark.parametrize("vin", REAL_VINS)
def test_real_vins_pass_and_any_altered_digit_is_refused(vin):
    assert vehicles.vin_valid(vin) and vehicles.vin_valid(vin.lower())
    for position in (0, 5, 10, 16):
        if position == 8:
            continue
        for replacement in "0123456789":
            altered = vin[:position] + replacement + vin[position + 1:]
            if altered != vin and vehicles.vin_check_digit(altered) != vin[8]:
                assert not vehicles.vin_valid(altered), altered
    wrong_digit = vin[:8] + ("0" if vin[8] != "0" else "1") + vin[9:]
    assert "check digit" in vehicles.vin_problem(wrong_digit)[0]


@pytest.mark.parametrize("vin", ["LFV2A21K173140I12", "LFV2A21K173140O12", "LFV2A21K173140Q12", "LFV2A21K17314061",
                                 "", None])
def test_vins_with_forbidden_letters_or_the_wrong_length_are_refused(vin):
    assert not vehicles.vin_valid(vin)


@pytest.mark.parametrize(("plate", "valid"), [
    ("吉A12345", True), ("吉AB1234", True), ("京AD12345", True), ("粤B12345F", True), ("吉A1234学", True),
    ("吉A", False), ("吉", False), ("吉A1234", False), ("吉A123456", False), ("XA12345", False), ("吉AO1234", False),
    ("京AD1234", True), ("京AD1234X", False),
])
def test_plates_are_a_province_a_letter_and_five_characters_six_on_new_energy(plate, valid):
    assert vehicles.plate_valid(plate) is valid
    pattern = next(f.pattern for f in rules.CUSTOMER_FIELDS if f.name == "plate")
    assert bool(re.fullmatch(pattern, plate)) is valid  # the customer field refuses what the archive check refuses


def test_the_new_energy_plate_is_recognised():
    assert vehicles.is_new_energy_plate("京AD12345") and not vehicles.is_new_energy_plate("吉A12345")


def test_the_customer_master_adds_the_dserp_fields_core_lacks_with_privacy_classes():
    by_name = {f.name: f for f in rules.CUSTOMER_FIELDS}
    assert set(by_name) == {"customer_category", "evaluation_category", "postcode", "vin", "plate", "product_code",
                            "series", "colour"}
    assert by_name["vin"].privacy == "personal" and by_name["plate"].privacy == "personal"
    assert by_name["colour"].privacy == "not_personal"
    assert all(f.required for f in rules.CUSTOMER_FIELDS)  # D1: every E12 field is mandatory
    assert re.fullmatch(by_name["vin"].pattern, "LFV2A21K173140612")
    assert not re.fullmatch(by_name["vin"].pattern, "LFV2A21K173140I12")
    assert re.fullmatch(by_name["postcode"].pattern, "130000") and not re.fullmatch(by_name["postcode"].pattern, "13000")


def test_schedules_and_retention_follow_the_regulation():
    standards = {s.id: s for s in rules.ARCHIVE_STANDARDS}
    sales, service = standards["sales_archive"].submission, standards["service_archive"].submission
    assert (sales.frequency, sales.weekday) == ("weekly", 1)  # S17: every Monday
    assert (service.frequency, service.at) == ("daily", "10:00")  # T1
    defaults = {p.key: p.default for p in rules.PARAMETERS}
    assert defaults["service_collection_hour"] == 15 and defaults["rectification_hours"] == 24  # T2, T6
    assert defaults["kpi_points_late_rectification"] == 1 and defaults["fraud_fine_cny"] == 10  # T6, T8
    for standard in standards.values():
        retention = {r.code: r for r in standard.retention}
        assert (retention["A6"].counted_from, retention["A6"].years, retention["A6"].then) == ("last_service", 5, "seal")
        assert (retention["A7"].counted_from, retention["A7"].years, retention["A7"].then) == ("created", 5, "seal")


# --- lead cards (seed-003 R6) --------------------------------------------------------------------

MONDAY = date(2026, 3, 2)


def card(*follow_ups: tuple[int, str], created: int = 0, signed: int = 0, card_id: str = "c1",
         consultant: str = "周顾问", signed_hour: int = 18) -> LeadCard:
    day = MONDAY.toordinal()
    return LeadCard(id=card_id, consultant=consultant, first_contact=MONDAY, created=date.fromordinal(day + created),
                    signed_at=datetime.combine(date.fromordinal(day + signed), datetime.min.time()).replace(hour=signed_hour),
                    follow_ups=tuple(FollowUp(date.fromordinal(day + d), ch) for d, ch in follow_ups))


def test_a_card_is_created_the_same_day_as_the_first_contact():
    assert leads.created_on_time(card())
    late = card(created=1)
    assert not leads.created_on_time(late)
    assert not leads.card_status(late, MONDAY).valid


def test_a_card_signed_on_a_later_day_takes_effect_that_day():
    assert leads.effective_date(card(signed=2)) == date(2026, 3, 4)
    assert leads.card_status(card((5, "phone"), signed=2), date(2026, 3, 8)).valid  # 3 days from the signature


def test_the_first_follow_up_is_due_within_three_days():
    assert leads.card_status(card((3, "phone")), date(2026, 3, 6)).valid
    late = leads.card_status(card((4, "phone")), date(2026, 3, 6))
    assert not late.valid and late.void_on == date(2026, 3, 5)
    assert not leads.card_status(card(), date(2026, 3, 6)).valid  # never followed up
    assert leads.card_status(card(), date(2026, 3, 4)).valid  # still within the 3 days


def test_after_the_first_follow_up_one_is_due_every_week():
    assert leads.card_status(card((1, "phone"), (8, "visit"), (15, "phone")), date(2026, 3, 20)).valid
    gap = leads.card_status(card((1, "phone"), (9, "visit")), date(2026, 3, 20))
    assert not gap.valid and gap.void_on == date(2026, 3, 10)
    assert not leads.card_status(card((1, "phone")), date(2026, 3, 11)).valid  # a week passed without one


def test_three_sms_only_follow_ups_in_a_row_void_the_card():
    assert not leads.card_status(card((1, "sms"), (3, "sms"), (5, "sms")), date(2026, 3, 8)).valid
    assert leads.card_status(card((1, "sms"), (3, "sms"), (4, "phone"), (5, "sms")), date(2026, 3, 8)).valid
    assert leads.card_status(card((1, "sms"), (3, "sms"), (5, "sms")), date(2026, 3, 8),
                             {"lead_sms_only_limit": 4}).valid


def test_a_duplicate_card_belongs_to_whoever_was_signed_first():
    first = card(card_id="a", consultant="周顾问", signed_hour=17)
    second = card(card_id="b", consultant="吴顾问", signed_hour=9)
    unsigned = LeadCard(id="c", consultant="郑顾问", first_contact=MONDAY, created=MONDAY, signed_at=None)
    assert leads.duplicate_owner([first, second, unsigned]).consultant == "吴顾问"
    assert leads.duplicate_owner([unsigned]) is None
    assert not leads.card_status(unsigned, MONDAY).valid
