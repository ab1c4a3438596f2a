"""The archive lending register: every loan records borrower, content, time out, due date and
return (with who took it back); overdue loans are flagged and announced once; refusals write
nothing; tenants and department scopes kept apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from litestar.testing import AsyncTestClient

from core.audit.tables import AuditEntry
from core.customers import service as customers
from core.db import unit_of_work
from core.errors import KehuError
from core.identity import roles
from core.jobs.tables import OutboxEvent
from core.plugins.testing import make_registry
from core.privacy import assessments, borrowing
from core.privacy.consent_tables import ArchiveLoan
from core.tenancy import service as tenancy
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, add_user, sign_in

PERSON = {"kind": "person", "surname": "赵", "given_name": "海涛", "phones": ["137 1234 5678"]}


async def new_customer(tenant, **fields) -> customers.CustomerView:
    return (await customers.create_customer(SYSTEM.for_tenant(tenant.id), make_registry(),
                                            {**PERSON, **fields})).customer


async def written(tenant) -> tuple[int, int, int]:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        return await uow.count(ArchiveLoan), await uow.count(AuditEntry), await uow.count(OutboxEvent)


async def events(tenant, event_type: str) -> list[str]:
    async with unit_of_work(SYSTEM.for_tenant(tenant.id), write=False) as uow:
        rows = await uow.select(OutboxEvent.aggregate_id).where(OutboxEvent.event_type == event_type)
    return [r["aggregate_id"] for r in rows]


async def time_passes(tenant, loan_id, due_at: datetime) -> None:
    """Move a loan's due date into the past, as if the days had gone by."""
    async with unit_of_work(SYSTEM.for_tenant(tenant.id)) as uow:
        await uow.update(ArchiveLoan, {ArchiveLoan.due_at: due_at}).where(ArchiveLoan.id == loan_id)


async def test_a_loan_records_the_four_register_fields_and_who_took_it_back(seeded):
    admin = await sign_in("acme", "admin")
    borrower = await add_user(seeded.acme, "borrower", display_name="孙丽")
    archivist = await add_user(seeded.acme, "keeper")
    customer = await new_customer(seeded.acme)
    loan = await borrowing.lend_archive(admin, customer.id, borrower_id=borrower.id, content="购车合同及发票复印件")
    assert (loan.customer_id, loan.borrower_id, loan.borrower_name, loan.content, loan.lent_by) == (
        customer.id, borrower.id, "孙丽", "购车合同及发票复印件", admin.actor)
    assert loan.due_at - loan.lent_at == timedelta(days=7) and loan.returned_at is None and not loan.overdue
    await assessments.update_privacy_settings(admin, {"privacy.loan_days": 3})
    short = await borrowing.lend_archive(admin, customer.id, borrower_id=borrower.id, content="维修记录")
    assert short.due_at - short.lent_at == timedelta(days=3)

    await roles.grant_role(SYSTEM.for_tenant(seeded.acme.id), user_id=archivist.id,
                           role_id={r.name: r.id for r in await roles.list_roles(admin)}["客户总监"])
    keeper = await sign_in("acme", "keeper")
    returned = await borrowing.return_archive(keeper, loan.id)
    assert returned.returned_by == keeper.actor and returned.returned_at >= loan.lent_at
    before = await written(seeded.acme)
    with pytest.raises(KehuError) as again:
        await borrowing.return_archive(admin, loan.id)
    assert again.value.code == "LOAN_ALREADY_RETURNED"
    assert await written(seeded.acme) == before
    assert [v.id for v in await borrowing.list_loans(admin, open_only=True)] == [short.id]
    async with unit_of_work(SYSTEM.for_tenant(seeded.acme.id), write=False) as uow:
        trail = [r["action"] for r in await uow.select(AuditEntry.action).where(
            AuditEntry.target_id == str(loan.id)).order_by(AuditEntry.seq)]
    assert trail == ["archive.lent", "archive.returned"]


async def test_overdue_loans_are_flagged_and_announced_once_each(seeded):
    admin = await sign_in("acme", "admin")
    borrower = await add_user(seeded.acme, "borrower")
    customer = await new_customer(seeded.acme)
    late, back, fine = [await borrowing.lend_archive(admin, customer.id, borrower_id=borrower.id, content=c)
                        for c in ("档案袋 A", "档案袋 B", "档案袋 C")]
    now = datetime.now(UTC)
    await time_passes(seeded.acme, late.id, now - timedelta(days=1))
    await time_passes(seeded.acme, back.id, now - timedelta(days=1))
    await borrowing.return_archive(admin, back.id)
    assert [v.id for v in await borrowing.list_loans(admin, overdue=True)] == [late.id]
    assert {v.id for v in await borrowing.list_loans(admin, overdue=False)} == {back.id, fine.id}
    assert [v.overdue for v in await borrowing.list_loans(admin) if v.id == late.id] == [True]
    assert await borrowing.announce_overdue_loans(now) == 1
    assert await borrowing.announce_overdue_loans(now + timedelta(hours=1)) == 0  # once per loan
    assert await events(seeded.acme, "archive.loan_overdue") == [str(late.id)]
    assert await borrowing.announce_overdue_loans(fine.due_at + timedelta(seconds=1)) == 1
    assert sorted(await events(seeded.acme, "archive.loan_overdue")) == sorted([str(late.id), str(fine.id)])


async def test_a_refused_loan_writes_nothing(seeded):
    admin = await sign_in("acme", "admin")
    borrower = await add_user(seeded.acme, "borrower")
    outsider = await add_user(seeded.globex, "outsider")
    customer = await new_customer(seeded.acme)
    foreign = await new_customer(seeded.globex)
    await add_user(seeded.acme, "plain")
    plain = await sign_in("acme", "plain")
    before = await written(seeded.acme)
    for call, code in (
        (lambda: borrowing.lend_archive(admin, uuid4(), borrower_id=borrower.id, content="x"), "CUSTOMER_NOT_FOUND"),
        (lambda: borrowing.lend_archive(admin, foreign.id, borrower_id=borrower.id, content="x"), "CUSTOMER_NOT_FOUND"),
        (lambda: borrowing.lend_archive(admin, customer.id, borrower_id=outsider.id, content="x"), "BORROWER_UNKNOWN"),
        (lambda: borrowing.lend_archive(admin, customer.id, borrower_id=borrower.id, content="  "), "CONTENT_REQUIRED"),
        (lambda: borrowing.lend_archive(admin, customer.id, borrower_id=borrower.id, content="x",
                                        due_at=datetime.now(UTC) - timedelta(hours=1)), "DUE_DATE_INVALID"),
        (lambda: borrowing.lend_archive(plain, customer.id, borrower_id=borrower.id, content="x"), "PERMISSION_DENIED"),
        (lambda: borrowing.return_archive(admin, uuid4()), "NOT_FOUND"),
    ):
        with pytest.raises(KehuError) as refused:
            await call()
        assert refused.value.code == code
    assert await written(seeded.acme) == before


async def test_the_register_is_kept_per_tenant_and_per_department_scope(seeded):
    admin, globex = await sign_in("acme", "admin"), await sign_in("globex", "admin")
    departments = {d.name: d.id for d in await tenancy.list_departments(admin)}
    archivist_role = {r.name: r.id for r in await roles.list_roles(admin)}["客服部档案管理员"]
    await add_user(seeded.acme, "archivist", department_ids=[departments["客服部"]], role_ids=[archivist_role])
    borrower = await add_user(seeded.acme, "borrower")
    ours = await new_customer(seeded.acme, department_id=str(departments["客服部"]))
    sales = await new_customer(seeded.acme, department_id=str(departments["销售部"]), phones=["13712345679"])
    archivist = await sign_in("acme", "archivist")
    mine = await borrowing.lend_archive(archivist, ours.id, borrower_id=borrower.id, content="回访记录")
    other = await borrowing.lend_archive(admin, sales.id, borrower_id=borrower.id, content="销售合同")
    assert [v.id for v in await borrowing.list_loans(archivist)] == [mine.id]
    assert {v.id for v in await borrowing.list_loans(admin)} == {mine.id, other.id}
    with pytest.raises(KehuError) as hidden:
        await borrowing.return_archive(archivist, other.id)
    assert hidden.value.code == "CUSTOMER_NOT_FOUND"
    assert await borrowing.list_loans(globex) == []
    with pytest.raises(KehuError) as foreign:
        await borrowing.return_archive(globex, mine.id)
    assert foreign.value.code == "NOT_FOUND"


# --- over GraphQL ------------------------------------------------------------------------------

LEND = """mutation($c: ID!, $b: ID!, $content: String!) { archiveLend(customerId: $c, borrowerId: $b, content: $content) {
  loan { id borrowerName content overdue returnedAt } errors { code field } } }"""
RETURN = """mutation($l: ID!) { archiveReturn(loanId: $l) { loan { returnedAt returnedBy } errors { code field } } }"""
LOANS = """query($o: Boolean) { archiveLoans(overdue: $o) { nodes { id content overdue } } }"""


@pytest.fixture
async def client(settings, seeded):
    customer = await new_customer(seeded.acme)
    borrower = await add_user(seeded.acme, "borrower", display_name="钱芳")
    relaxed = settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000})
    async with AsyncTestClient(create_app(relaxed)) as test_client:
        test_client.ids = {"c": str(customer.id), "b": str(borrower.id)}
        yield test_client


async def test_lending_round_trip_over_graphql(client):
    token = (await login(client))["accessToken"]
    lent = (await gql(client, LEND, token, content="会员档案", **client.ids)).json()["data"]["archiveLend"]
    assert lent["errors"] == [] and lent["loan"]["borrowerName"] == "钱芳" and lent["loan"]["overdue"] is False
    loan_id = lent["loan"]["id"]
    assert (await gql(client, LOANS, token, o=False)).json()["data"]["archiveLoans"]["nodes"] == [
        {"id": loan_id, "content": "会员档案", "overdue": False}]
    assert (await gql(client, LOANS, token, o=True)).json()["data"]["archiveLoans"]["nodes"] == []
    back = (await gql(client, RETURN, token, l=loan_id)).json()["data"]["archiveReturn"]
    assert back["errors"] == [] and back["loan"]["returnedBy"].startswith("user:") and back["loan"]["returnedAt"]
    again = (await gql(client, RETURN, token, l=loan_id)).json()["data"]["archiveReturn"]
    assert again == {"loan": None, "errors": [{"code": "LOAN_ALREADY_RETURNED", "field": "loanId"}]}
    empty = (await gql(client, LEND, token, content="", **client.ids)).json()["data"]["archiveLend"]
    assert empty["errors"] == [{"code": "CONTENT_REQUIRED", "field": "content"}]
    globex = (await login(client, tenant="globex"))["accessToken"]
    foreign = (await gql(client, LEND, globex, content="x", **client.ids)).json()["data"]["archiveLend"]
    assert foreign["errors"] == [{"code": "CUSTOMER_NOT_FOUND", "field": "customerId"}]
