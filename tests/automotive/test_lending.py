"""Customer-data lending on the sales floor (seed 003 R6-61 to R6-63) over the public GraphQL API: core's
lending register with the dealer's settings (two approvals, one-day due time, bans), the sales manager or a
team leader and the sales assistant approving, and the automotive tick fining late returns (R6-62, 10 yuan)
and losses or damages (R6-63, 50 yuan) once per loan. Core's clock is pinned too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.privacy import borrowing
from plugins.automotive import database
from tests.automotive.conftest import customer, on_app
from tests.medical_devices.api import ok, refused
from tests.support import Clock

START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai, as the floor's clock
LEND = ("mutation($c: ID!, $b: ID!, $t: String!) { archiveLend(customerId: $c, borrowerId: $b, content: $t) "
        "{ loan { id status dueAt lentAt } errors { code field } } }")
APPROVE = ("mutation($l: ID!, $as: String!) { archiveLoanApprove(loanId: $l, capacity: $as) { loan { id status dueAt "
           "lentAt } errors { code field } } }")
RETURN = "mutation($l: ID!) { archiveReturn(loanId: $l) { loan { id returnedLate } ban { cause } errors { code } } }"
INCIDENT = ("mutation($l: ID!, $k: String!) { archiveLoanIncident(loanId: $l, kind: $k, note: \"资料遗失\") "
            "{ loan { id incident } ban { cause } errors { code } } }")
FINES = "query($u: ID!) { automotivePenalties(userId: $u, first: 20) { nodes { rule amountCny source } } }"
SETTINGS = "mutation($i: PrivacySettingsInput!) { privacySettingsUpdate(input: $i) { errors { code field } } }"


@pytest.fixture
async def desk(floor, monkeypatch):
    core_clock = Clock(START)
    monkeypatch.setattr(borrowing, "now", core_clock)
    await ok(floor["admin"], SETTINGS, "privacySettingsUpdate", i={"loanApprovals": 1})
    floor["core_clock"] = core_clock
    floor["customer"] = await customer(floor["assistant"])
    return floor


async def lent(floor, borrower: str = "consultant", approver: str = "manager") -> dict:
    asked = await ok(floor["assistant"], LEND, "archiveLend", c=floor["customer"], b=floor["ids"][borrower],
                     t="客户资料")
    await ok(floor[approver], APPROVE, "archiveLoanApprove", l=asked["loan"]["id"], **{"as": "lender"})
    return (await ok(floor["assistant"], APPROVE, "archiveLoanApprove", l=asked["loan"]["id"],
                     **{"as": "custodian"}))["loan"]


async def test_r6_61_the_sales_manager_or_a_team_leader_and_the_assistant_approve_a_loan(desk):
    """R6-61: the loan is pending until the manager (or a leader) and the assistant approved; a consultant
    may not approve; a leader's approval counts as the lending side's."""
    asked = await ok(desk["assistant"], LEND, "archiveLend", c=desk["customer"], b=desk["ids"]["consultant"], t="客户资料")
    loan = asked["loan"]["id"]
    assert asked["loan"]["status"] == "pending"
    assert (await refused(desk["consultant2"], APPROVE, "archiveLoanApprove", l=loan, **{"as": "lender"}))["code"] == \
        "PERMISSION_DENIED"
    assert (await ok(desk["leader"], APPROVE, "archiveLoanApprove", l=loan, **{"as": "lender"}))["loan"]["status"] == \
        "pending"
    out = await ok(desk["assistant"], APPROVE, "archiveLoanApprove", l=loan, **{"as": "custodian"})
    assert out["loan"]["status"] == "lent"


async def test_r6_62_a_borrower_who_returned_data_late_is_refused_the_next_loan_with_a_coded_error(desk):
    """R6-62 (acceptance): lent data is due back within one day; a late return bans the borrower, whose
    next loan is refused with BORROWER_BANNED, and the tick fines the late return 10 yuan once."""
    loan = await lent(desk)
    assert datetime.fromisoformat(loan["dueAt"]) - datetime.fromisoformat(loan["lentAt"]) == timedelta(days=1)
    desk["core_clock"].advance(days=1, minutes=1)
    back = await ok(desk["assistant"], RETURN, "archiveReturn", l=loan["id"])
    assert back["loan"]["returnedLate"] is True and back["ban"] == {"cause": "late"}
    again = await refused(desk["assistant"], LEND, "archiveLend", c=desk["customer"], b=desk["ids"]["consultant"],
                          t="客户资料")
    assert again == {"code": "BORROWER_BANNED", "field": "borrowerId"}
    assert await on_app(desk, database.fine_lending_breaches, START) == 1
    assert await on_app(desk, database.fine_lending_breaches, START) == 0  # once per loan
    fines = (await ok(desk["manager"], FINES, "automotivePenalties", u=desk["ids"]["consultant"]))["nodes"]
    assert fines == [{"rule": "R6-62", "amountCny": 10, "source": f"archive_loan:{loan['id']}"}]


async def test_r6_62_a_timely_return_is_neither_fined_nor_banned(desk):
    """R6-62: within the day, nothing happens to the borrower."""
    loan = await lent(desk, "consultant2", approver="leader2")
    desk["core_clock"].advance(hours=23)
    back = await ok(desk["assistant"], RETURN, "archiveReturn", l=loan["id"])
    assert back["loan"]["returnedLate"] is False and back["ban"] is None
    assert await on_app(desk, database.fine_lending_breaches, START) == 0
    assert (await ok(desk["assistant"], LEND, "archiveLend", c=desk["customer"], b=desk["ids"]["consultant2"],
                     t="客户资料"))["loan"]["status"] == "pending"


@pytest.mark.parametrize("kind", ["lost", "damaged"])
async def test_r6_63_a_loss_or_damage_bans_the_borrower_and_is_fined_50_yuan(desk, kind):
    """R6-63: recording a loss or damage bans the borrower and the tick fines it 50 yuan."""
    loan = await lent(desk)
    recorded = await ok(desk["assistant"], INCIDENT, "archiveLoanIncident", l=loan["id"], k=kind)
    assert recorded["ban"] == {"cause": kind}
    assert (await refused(desk["assistant"], LEND, "archiveLend", c=desk["customer"], b=desk["ids"]["consultant"],
                          t="客户资料"))["code"] == "BORROWER_BANNED"
    assert await on_app(desk, database.fine_lending_breaches, START) == 1
    fines = (await ok(desk["manager"], FINES, "automotivePenalties", u=desk["ids"]["consultant"]))["nodes"]
    assert [(f["rule"], f["amountCny"]) for f in fines] == [("R6-63", 50)]
