"""The lending rules of the archive register over the public GraphQL API (seed-003 R6-61 to R6-63,
seed-002 R1-11, R1-16, R1-18): two approvals by two different people, neither the borrower; a due
time of one day for approved loans; a late return, a loss or a damage bans the borrower
(BORROWER_BANNED) until an authorised person lifts the ban with a reason; external borrowers need
a signature; copies never exceed what was lent. Core's clock is pinned (core.privacy.borrowing.now)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.identity import roles
from core.identity.permissions import Scope
from core.privacy import borrowing
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.privacy.test_borrowing import new_customer
from tests.support import SYSTEM, Clock, add_user

# While the app runs (PostgreSQL: its pool belongs to its loop) the tests read through the API only.
AUDIT = ("query($f: AuditFilterInput) { auditEntries(filter: $f, first: 100) { nodes { action targetId } } }")

T = Scope.TENANT
LOAN = ("id status borrowerId borrowerName content lentAt dueAt returnedAt returnedLate needsApprovals "
        "lenderApprovedBy keeperApprovedBy signedBy incident externalName externalUnit copies { scope }")
LEND = ("mutation($c: ID!, $b: ID, $content: String!, $n: String, $u: String) { archiveLend(customerId: $c, "
        "borrowerId: $b, content: $content, externalName: $n, externalUnit: $u) { loan { %s } errors { code field } } }"
        % LOAN)
APPROVE = ("mutation($l: ID!, $as: String!) { archiveLoanApprove(loanId: $l, capacity: $as) { loan { %s } "
           "errors { code field } } }" % LOAN)
SIGN = "mutation($l: ID!) { archiveLoanSign(loanId: $l) { loan { %s } errors { code field } } }" % LOAN
RETURN = "mutation($l: ID!) { archiveReturn(loanId: $l) { loan { %s } errors { code field } } }" % LOAN
INCIDENT = ("mutation($l: ID!, $k: String!, $note: String!) { archiveLoanIncident(loanId: $l, kind: $k, note: $note) "
            "{ loan { %s } errors { code field } } }" % LOAN)
COPY = ("mutation($l: ID!, $s: [String!]!) { archiveCopyApprove(loanId: $l, scope: $s) { loan { %s } "
        "errors { code field } } }" % LOAN)
BANS = ("query($b: ID, $a: Boolean!) { archiveBorrowerBans(borrowerId: $b, activeOnly: $a, first: 50) { nodes { id "
        "borrowerId borrowerName loanId cause liftedAt liftedBy liftReason } } }")
LIFT = ("mutation($id: ID!, $r: String!) { archiveBanLift(id: $id, reason: $r) { ban { id liftedAt liftReason } "
        "errors { code field } } }")
SETTINGS = "mutation($i: PrivacySettingsInput!) { privacySettingsUpdate(input: $i) { errors { code field } } }"
START = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai


@pytest.fixture
def clock(monkeypatch) -> Clock:
    c = Clock(START)
    monkeypatch.setattr(borrowing, "now", c)
    return c


class Desk:
    """The app with the people of the rules, signed in: ``tokens[seat]`` and ``ids[seat]``."""

    def __init__(self, client, tokens: dict[str, str], ids: dict[str, str], customer: str) -> None:
        self.client, self.tokens, self.ids, self.customer = client, tokens, ids, customer

    async def call(self, seat: str, query: str, root: str, **variables) -> dict:
        body = (await gql(self.client, query, self.tokens[seat], **variables)).json()
        assert "errors" not in body, body
        return body["data"][root]

    async def ok(self, seat: str, query: str, root: str, **variables) -> dict:
        answer = await self.call(seat, query, root, **variables)
        assert answer["errors"] == [], answer
        return answer

    async def refused(self, seat: str, query: str, root: str, **variables) -> str:
        answer = await self.call(seat, query, root, **variables)
        assert answer["errors"], answer
        return answer["errors"][0]["code"]

    async def audited(self, **where) -> list[tuple[str, str]]:
        """(action, target id) of the audit entries matching ``where`` (action, targetId), oldest first."""
        body = (await gql(self.client, AUDIT, self.tokens["admin"], f=where)).json()
        assert "errors" not in body, body
        nodes = body["data"]["auditEntries"]["nodes"]
        return [(n["action"], n["targetId"]) for n in nodes]

    async def lend(self, borrower: str = "consultant", content: str = "购车合同；发票复印件", seat: str = "assistant",
                   **external) -> dict:
        b = None if external else self.ids[borrower]
        return await self.call(seat, LEND, "archiveLend", c=self.customer, b=b, content=content,
                               n=external.get("name"), u=external.get("unit"))

    async def lent_out(self, borrower: str = "consultant") -> dict:
        """A loan requested and approved by the manager and the assistant: out."""
        loan = (await self.lend(borrower))["loan"]
        await self.ok("manager", APPROVE, "archiveLoanApprove", l=loan["id"], **{"as": "lender"})
        return (await self.ok("assistant", APPROVE, "archiveLoanApprove", l=loan["id"], **{"as": "custodian"}))["loan"]


@pytest.fixture
async def desk(settings, seeded, clock):
    admin = SYSTEM.for_tenant(seeded.acme.id)
    posts = {
        "manager": {"privacy.archive.approve": T},
        "leader": {"privacy.archive.approve": T},
        "assistant": {"privacy.archive.lend": T, "privacy.archive.keep": T},
        "director": {"privacy.archive.external": T, "privacy.archive.ban.lift": T, "privacy.archive.approve": T},
        "consultant": {"customer.read": T},
        "consultant2": {"customer.read": T},
        "both": {"privacy.archive.approve": T, "privacy.archive.keep": T},
    }
    ids = {}
    for seat, permissions in posts.items():
        role = await roles.create_role(admin, name=f"lending-{seat}", permissions=permissions)
        ids[seat] = str((await add_user(seeded.acme, seat, display_name=seat, role_ids=[role.id])).id)
    customer = await new_customer(seeded.acme)
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 100_000})
    async with AsyncTestClient(create_app(relaxed)) as client:
        tokens = {seat: (await login(client, username=seat))["accessToken"] for seat in [*posts, "admin"]}
        d = Desk(client, tokens, ids, str(customer.id))
        await d.ok("admin", SETTINGS, "privacySettingsUpdate", i={"loanApprovals": 1})
        yield d


async def test_r6_61_a_loan_goes_out_only_with_both_approvals_by_two_people_neither_the_borrower(desk, clock):
    """R6-61: a request is pending; the lender side's approval alone does not lend it; the same person
    cannot give both approvals; the borrower approves nothing; both in: lent, due one day later (R6-62)."""
    asked = await desk.lend()
    assert asked["errors"] == [] and asked["loan"]["status"] == "pending" and asked["loan"]["needsApprovals"]
    loan = asked["loan"]["id"]
    # the borrower may not approve their own loan, whichever permission they hold
    assert await desk.refused("consultant", APPROVE, "archiveLoanApprove", l=loan, **{"as": "lender"}) == \
        "PERMISSION_DENIED"
    assert await desk.refused("assistant", APPROVE, "archiveLoanApprove", l=loan, **{"as": "lender"}) == \
        "PERMISSION_DENIED"  # the custodian is not the lending side
    first = await desk.ok("director", APPROVE, "archiveLoanApprove", l=loan, **{"as": "lender"})
    assert first["loan"]["status"] == "pending" and first["loan"]["lenderApprovedBy"] == desk.ids["director"]
    assert await desk.refused("leader", APPROVE, "archiveLoanApprove", l=loan, **{"as": "lender"}) == \
        "LOAN_ALREADY_APPROVED"
    # the director holds no custody; a custodian who already approved as lender would be the same person
    assert await desk.refused("director", APPROVE, "archiveLoanApprove", l=loan, **{"as": "custodian"}) == \
        "PERMISSION_DENIED"
    clock.advance(hours=2)
    out = await desk.ok("assistant", APPROVE, "archiveLoanApprove", l=loan, **{"as": "custodian"})
    assert out["loan"]["status"] == "lent" and out["loan"]["keeperApprovedBy"] == desk.ids["assistant"]
    lent_at = datetime.fromisoformat(out["loan"]["lentAt"])
    assert lent_at == START + timedelta(hours=2)
    assert datetime.fromisoformat(out["loan"]["dueAt"]) - lent_at == timedelta(days=1)  # R6-62: one day


async def test_r6_61_one_person_holding_both_permissions_gives_only_one_approval(desk):
    """R6-61: the two approvals are by two different people."""
    loan = (await desk.lend())["loan"]["id"]
    await desk.ok("both", APPROVE, "archiveLoanApprove", l=loan, **{"as": "lender"})
    assert await desk.refused("both", APPROVE, "archiveLoanApprove", l=loan, **{"as": "custodian"}) == \
        "LOAN_SAME_APPROVER"
    # the borrower holding both permissions still approves nothing of their own loan
    own = (await desk.lend(borrower="both"))["loan"]["id"]
    assert await desk.refused("both", APPROVE, "archiveLoanApprove", l=own, **{"as": "lender"}) == \
        "LOAN_APPROVER_IS_BORROWER"


async def test_r6_62_a_borrower_who_returned_late_is_refused_the_next_loan_with_a_coded_error(desk, clock, seeded):
    """R6-62 (acceptance): a borrower who returned data late is refused the next loan with a coded
    error (BORROWER_BANNED); a timely borrower is not; the late return is recorded and announced."""
    late = await desk.lent_out("consultant")
    timely = await desk.lent_out("consultant2")
    clock.advance(hours=23)
    back = await desk.ok("assistant", RETURN, "archiveReturn", l=timely["id"])
    assert back["loan"]["returnedLate"] is False
    clock.advance(hours=2)  # 25 hours after lending: past the one-day due time
    returned = await desk.ok("assistant", RETURN, "archiveReturn", l=late["id"])
    assert returned["loan"]["status"] == "returned" and returned["loan"]["returnedLate"] is True
    refused = await desk.lend("consultant")
    assert refused == {"loan": None, "errors": [{"code": "BORROWER_BANNED", "field": "borrowerId"}]}
    assert (await desk.lend("consultant2"))["errors"] == []  # returned in time: may borrow again
    assert [a for a, _ in await desk.audited(action="archive.borrower_banned")] == ["archive.borrower_banned"]
    bans = (await desk.call("director", BANS, "archiveBorrowerBans", b=desk.ids["consultant"], a=True))["nodes"]
    assert [(b["loanId"], b["cause"], b["borrowerName"]) for b in bans] == [(late["id"], "late", "consultant")]


async def test_r6_62_a_ban_is_not_lifted_silently_only_with_a_reason_by_an_authorised_person(desk, clock, seeded):
    """R6-62: turning the ban setting off does not lift a ban; the assistant may not lift it; the
    director lifts it with a reason (audited), and then the borrower may borrow again."""
    loan = await desk.lent_out()
    clock.advance(days=2)
    await desk.ok("assistant", RETURN, "archiveReturn", l=loan["id"])
    ban = (await desk.call("director", BANS, "archiveBorrowerBans", b=desk.ids["consultant"], a=True))["nodes"][0]
    await desk.ok("admin", SETTINGS, "privacySettingsUpdate", i={"loanBan": 0})
    assert (await desk.lend())["errors"][0]["code"] == "BORROWER_BANNED"  # the setting stops new bans only
    assert await desk.refused("assistant", LIFT, "archiveBanLift", id=ban["id"], r="需要") == "PERMISSION_DENIED"
    assert await desk.refused("director", LIFT, "archiveBanLift", id=ban["id"], r="  ") == "FIELD_REQUIRED"
    lifted = await desk.ok("director", LIFT, "archiveBanLift", id=ban["id"], r="重点车型交车需要查阅")
    assert lifted["ban"]["liftReason"] == "重点车型交车需要查阅" and lifted["ban"]["liftedAt"]
    assert await desk.refused("director", LIFT, "archiveBanLift", id=ban["id"], r="again") == "BAN_ALREADY_LIFTED"
    assert (await desk.lend())["errors"] == []
    trail = {a for a, _ in await desk.audited(targetId=ban["id"])}
    assert trail == {"archive.borrower_banned", "archive.ban_lifted"}
    # with the setting off, a new late return bans nobody
    again = await desk.lent_out("consultant2")
    clock.advance(days=2)
    assert (await desk.ok("assistant", RETURN, "archiveReturn", l=again["id"]))["loan"]["returnedLate"]
    assert (await desk.lend("consultant2"))["errors"] == []


async def test_r6_62_a_borrower_banned_while_a_request_waits_is_refused_at_its_approval(desk, clock):
    """R6-62: the ban refuses any further loan, also one asked for before the late return."""
    loan = await desk.lent_out()
    waiting = (await desk.lend())["loan"]["id"]
    await desk.ok("manager", APPROVE, "archiveLoanApprove", l=waiting, **{"as": "lender"})
    clock.advance(days=2)
    await desk.ok("assistant", RETURN, "archiveReturn", l=loan["id"])
    assert await desk.refused("assistant", APPROVE, "archiveLoanApprove", l=waiting, **{"as": "custodian"}) == \
        "BORROWER_BANNED"


@pytest.mark.parametrize("kind", ["lost", "damaged"])
async def test_r6_63_recording_a_loss_or_damage_bans_the_borrower(desk, seeded, kind):
    """R6-63: a loss or a damage of lent data bans the borrower and is announced; recorded once."""
    loan = await desk.lent_out()
    recorded = await desk.ok("assistant", INCIDENT, "archiveLoanIncident", l=loan["id"], k=kind, note="资料袋遗失")
    assert recorded["loan"]["incident"] == kind
    assert recorded["loan"]["status"] == ("lost" if kind == "lost" else "lent")
    assert await desk.refused("assistant", INCIDENT, "archiveLoanIncident", l=loan["id"], k=kind, note="x") == \
        "LOAN_INCIDENT_RECORDED"
    assert (await desk.lend())["errors"][0]["code"] == "BORROWER_BANNED"
    assert await desk.audited(action=f"archive.loan_{kind}") == [(f"archive.loan_{kind}", loan["id"])]
    bans = (await desk.call("director", BANS, "archiveBorrowerBans", b=desk.ids["consultant"], a=True))["nodes"]
    assert [b["cause"] for b in bans] == [kind]


async def test_r1_16_an_external_borrower_needs_the_signature_of_the_general_manager_or_the_customer_director(desk):
    """R1-16 / R1-11: a loan to a person of an external unit names them and their unit, and goes out
    only once a holder of privacy.archive.external signed it (besides the two approvals)."""
    asked = await desk.lend(name="李工", unit="上汽大众华东区")
    loan = asked["loan"]
    assert (loan["borrowerId"], loan["borrowerName"], loan["externalUnit"]) == (None, "李工（上汽大众华东区）", "上汽大众华东区")
    await desk.ok("manager", APPROVE, "archiveLoanApprove", l=loan["id"], **{"as": "lender"})
    approved = await desk.ok("assistant", APPROVE, "archiveLoanApprove", l=loan["id"], **{"as": "custodian"})
    assert approved["loan"]["status"] == "pending"  # no signature yet
    assert await desk.refused("manager", SIGN, "archiveLoanSign", l=loan["id"]) == "PERMISSION_DENIED"
    signed = await desk.ok("director", SIGN, "archiveLoanSign", l=loan["id"])
    assert signed["loan"]["status"] == "lent" and signed["loan"]["signedBy"] == desk.ids["director"]
    assert await desk.refused("director", SIGN, "archiveLoanSign", l=loan["id"]) == "LOAN_NOT_PENDING"
    inside = (await desk.lend())["loan"]["id"]
    assert await desk.refused("director", SIGN, "archiveLoanSign", l=inside) == "LOAN_NOT_EXTERNAL"
    both = await desk.call("assistant", LEND, "archiveLend", c=desk.customer, b=desk.ids["consultant"], content="x",
                           n="李工", u="上汽大众")
    assert both["errors"] == [{"code": "BORROWER_REQUIRED", "field": "borrowerId"}]
    half = await desk.lend(name="李工", unit=" ")
    assert half["errors"] == [{"code": "EXTERNAL_BORROWER_INVALID", "field": "externalUnit"}]


async def test_r1_11_the_register_keeps_its_four_fields(desk, clock):
    """R1-11: borrower's name, content, time out and time back (归档时间) are all recorded."""
    loan = await desk.lent_out()
    clock.advance(hours=3)
    back = (await desk.ok("assistant", RETURN, "archiveReturn", l=loan["id"]))["loan"]
    assert back["borrowerName"] == "consultant" and back["content"] == "购车合同；发票复印件"
    assert datetime.fromisoformat(back["lentAt"]) == START
    assert datetime.fromisoformat(back["returnedAt"]) == START + timedelta(hours=3)


async def test_r1_18_a_copy_needs_the_archivists_consent_and_never_exceeds_what_was_lent(desk):
    """R1-18: only the custodian (privacy.archive.keep) approves a copy; its scope lies within the
    loan's content; the approval is recorded with its scope."""
    loan = await desk.lent_out()
    assert await desk.refused("manager", COPY, "archiveCopyApprove", l=loan["id"], s=["发票复印件"]) == \
        "PERMISSION_DENIED"
    assert await desk.refused("assistant", COPY, "archiveCopyApprove", l=loan["id"], s=["发票复印件", "身份证"]) == \
        "COPY_EXCEEDS_LOAN"
    copied = await desk.ok("assistant", COPY, "archiveCopyApprove", l=loan["id"], s=["发票复印件"])
    assert copied["loan"]["copies"] == [{"scope": ["发票复印件"]}]
    pending = (await desk.lend())["loan"]["id"]
    assert await desk.refused("assistant", COPY, "archiveCopyApprove", l=pending, s=["发票复印件"]) == "LOAN_NOT_LENT"


async def test_refused_lending_steps_write_nothing(desk, seeded, clock):
    """A refused approval, return, incident, copy or lift leaves the register as it was."""
    loan = await desk.lent_out()
    clock.advance(days=2)
    await desk.ok("assistant", RETURN, "archiveReturn", l=loan["id"])

    async def counts():
        loans = (await gql(desk.client, "{ archiveLoans(first: 100) { nodes { id status } } }",
                           desk.tokens["admin"])).json()["data"]["archiveLoans"]["nodes"]
        bans = await desk.call("director", BANS, "archiveBorrowerBans", b=None, a=False)
        return loans, bans, await desk.audited(targetType="archive_loan"), await desk.audited(targetType="archive_borrower_ban")

    before = await counts()
    assert (await desk.lend())["errors"][0]["code"] == "BORROWER_BANNED"
    assert await desk.refused("assistant", RETURN, "archiveReturn", l=loan["id"]) == "LOAN_ALREADY_RETURNED"
    assert await desk.refused("assistant", INCIDENT, "archiveLoanIncident", l=loan["id"], k="lost", note="x") == \
        "LOAN_NOT_LENT"
    assert await desk.refused("assistant", APPROVE, "archiveLoanApprove", l=loan["id"], **{"as": "custodian"}) == \
        "LOAN_NOT_PENDING"
    assert await counts() == before
