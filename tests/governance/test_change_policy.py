"""The pure rules of key-field change requests and the quarterly review (seed-004 §2.3, CSM-4 to
CSM-6, CSM-1's mandatory fields), on the real working-day calendar (2024-06-10 was the Dragon Boat
Festival)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.calendar import TenantCalendar
from core.governance import change_policy as policy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC) - timedelta(hours=8)


def test_CSM_5_policy_deadline_skips_the_weekend_and_the_holiday_and_breach_is_by_local_day():
    """CSM-5: 3 working days from Friday 2024-06-07 (Monday 06-10 a holiday) end on Thursday
    06-13; applied 06-13 17:00 is in time, 06-14 09:00 (Shanghai) is a breach."""
    calendar = TenantCalendar()
    due = policy.due_on(date(2024, 6, 7), 3, calendar)
    assert due == date(2024, 6, 13)
    assert not policy.breached(due, sh(2024, 6, 13, 17), SHANGHAI)
    assert not policy.breached(due, sh(2024, 6, 13, 23, 59), SHANGHAI)
    assert policy.breached(due, sh(2024, 6, 14, 9), SHANGHAI)
    assert policy.breached(due, sh(2024, 6, 14, 0, 0), SHANGHAI)
    assert policy.due_at(due, SHANGHAI) == sh(2024, 6, 14)
    assert policy.overdue(policy.SUBMITTED, due, sh(2024, 6, 14, 9), SHANGHAI)
    assert not policy.overdue(policy.APPLIED, due, sh(2024, 6, 14, 9), SHANGHAI)


def test_CSM_6_policy_only_key_fields_start_a_timer():
    """CSM-6: with the default key fields a change of needs or purchase history is not key; one
    of business.scope, phones or the legal representative is; a declared field covers the fields
    under it, core and extension alike."""
    keys = policy.DEFAULT_KEY_FIELDS
    assert policy.key_fields_of(["needs.purchase_history", "tags"], keys) == []
    assert policy.key_fields_of(["business.scope", "business.scale"], keys) == ["business.scope"]
    assert policy.key_fields_of(["phones", "legal_representative"], keys) == ["legal_representative", "phones"]
    assert policy.key_fields_of(["address.city", "addresses"], ["address"]) == ["address.city"]
    assert policy.key_fields_of(["extensions.automotive.postcode"], ["extensions.automotive.postcode"]) == [
        "extensions.automotive.postcode"]
    assert policy.due_on(date(2024, 6, 7), 1, TenantCalendar()) == date(2024, 6, 11)


def test_CSM_4_policy_quarters_of_the_calendar():
    """CSM-4: the report on 2024-07-01 covers 2024 Q2 (04-01 to 06-30); a review on 2024-05-02
    is in it, one on 2024-02-20 is not; a review late on 06-30 in Shanghai counts for Q2."""
    q = policy.last_ended_quarter(date(2024, 7, 1))
    assert (q, q.first_day, q.last_day, q.label()) == (policy.Quarter(2024, 2), date(2024, 4, 1),
                                                       date(2024, 6, 30), "2024-Q2")
    assert policy.reviewed_in(q, [sh(2024, 5, 2, 10)], SHANGHAI)
    assert not policy.reviewed_in(q, [sh(2024, 2, 20, 10)], SHANGHAI)
    assert policy.reviewed_in(q, [sh(2024, 6, 30, 23, 30)], SHANGHAI)  # 15:30 UTC, still 06-30 in Shanghai
    assert not policy.reviewed_in(q, [sh(2024, 7, 1, 0, 30)], SHANGHAI)  # 06-30 in UTC, 07-01 in Shanghai
    assert policy.last_ended_quarter(date(2024, 1, 15)) == policy.Quarter(2023, 4)
    assert policy.Quarter(2023, 4).last_day == date(2023, 12, 31)


def test_CSM_1_policy_names_the_first_missing_mandatory_field():
    """CSM-1: the first mandatory field a record lacks; organisation-only fields are not asked of
    a person; a contact method is a phone or an e-mail."""
    required = ["legal_representative", "address", "business.scope", "contact_methods"]
    org = {"kind": "organisation", "org_name": "甲", "phones": ["+8613800138000"], "address": {"city": "上海"},
           "business": {"scope": "建材"}}
    assert policy.missing_required(org, required) == "legal_representative"
    assert policy.missing_required({k: v for k, v in org.items() if k != "business"} | {"legal_representative": "王"},
                                   required) == "business.scope"
    assert policy.missing_required({**org, "legal_representative": "王"}, required) is None
    assert policy.missing_required({**org, "legal_representative": "王", "phones": []}, required) == "contact_methods"
    assert policy.missing_required({**org, "legal_representative": "王", "phones": [], "emails": ["a@b.cn"]},
                                   required) is None
    person = {"kind": "person", "surname": "赵", "given_name": "六", "phones": ["+8613900139000"],
              "address": {"city": "上海"}, "business": {"scope": "个体"}}
    assert policy.missing_required(person, required) is None
    assert policy.missing_required(person, []) is None
