"""The tobacco retail screen of the console (issue 25; seed-001 S21 客户基础信息管理规定) in a real
browser: the onboarding deadlines board, a special change filed, signed by two people and executed
through the UI, and the phone-change watch list."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.console.conftest import Console, graphql, token_for

TENANT = "demo-tobacco"
PASSWORD = "Tobacco-staff-2026!x"


def _retailer(base: str, token: str, unique: str, *, licensed_days_ago: int) -> tuple[str, str]:
    """A retailer (a new customer) with an order phone, in onboarding since a licence some days ago
    and with its other master data still empty; (id, name)."""
    name = f"烟{unique}"
    made = graphql(base, "mutation($i: CustomerInput!) { customerCreate(input: $i, force: true) { customer { id } "
                         "errors { code message } } }", token, i={"kind": "person", "surname": "测", "givenName": name})
    assert made["customerCreate"]["errors"] == [], made
    customer = made["customerCreate"]["customer"]["id"]
    kept = graphql(base, "mutation($c: ID!, $v: JSON!) { tobaccoMasterDataMaintain(customerId: $c, values: $v) { "
                         "errors { code message } } }", token, c=customer,
                   v={"customer_code": f"YC{unique}", "licence_legal_person": f"测{name}", "order_weekday": 3,
                      "order_phone": f"137{unique}1"})
    assert kept["tobaccoMasterDataMaintain"]["errors"] == [], kept
    licence = (datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=licensed_days_ago)).isoformat()
    registered = graphql(base, "mutation($c: ID!, $d: Date!) { tobaccoRetailerRegister(customerId: $c, "
                               "licenceDate: $d) { errors { code message } } }", token, c=customer, d=licence)
    assert registered["tobaccoRetailerRegister"]["errors"] == [], registered
    return customer, f"测{name}"


def _swept(base: str, token: str, customer: str) -> None:
    """Wait for kehu's onboarding sweep (a tick every few seconds) to record the retailer's breaches."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = graphql(base, "{ tobaccoOnboardingOverdue(first: 100) { nodes { customerId step } } }", token)
        if any(n["customerId"] == customer and n["step"] == "core" for n in found["tobaccoOnboardingOverdue"]["nodes"]):
            return
        time.sleep(0.5)
    raise AssertionError("the onboarding sweep recorded no breach of the core step within 30 s")


def _staff(base: str, token: str, unique: str, login: str, post: str, permissions: tuple[str, ...]) -> str:
    """A user holding one post of S21 (a role with the permissions, company-wide); the username."""
    granted = ("customer.read", "tobacco.report.read", *permissions)
    role = graphql(base, "mutation($i: RoleInput!) { roleCreate(input: $i) { role { id } errors { code message } } }",
                   token, i={"name": f"{post}{unique}",
                             "permissions": [{"permission": p, "scope": "TENANT"} for p in granted]})
    assert role["roleCreate"]["errors"] == [], role
    username = f"{login}{unique}"
    made = graphql(base, "mutation($i: UserCreateInput!) { userCreate(input: $i) { user { id } "
                         "errors { code message } } }", token,
                   i={"username": username, "displayName": f"{post}{unique}", "password": PASSWORD,
                      "roleIds": [role["roleCreate"]["role"]["id"]]})
    assert made["userCreate"]["errors"] == [], made
    return username


def _switch(console: Console, username: str) -> None:
    console.page.click("#signout")
    console.sign_in(TENANT, username, PASSWORD)


def _open_change(console: Console, reference: str) -> None:
    """From the board's list of changes awaiting sign-off or execution, open the change."""
    console.go("/tobacco", "#tob-changes-requested table, #tob-changes-requested p.muted")
    link = console.page.wait_for_selector(f"a.tob-change:has-text('{reference}')")
    console.go(link.get_attribute("href"), "#tob-change-state")  # by its address: a list re-render cannot eat the click


def _error_code(console: Console) -> str:
    return console.page.wait_for_selector("main p.error[role=alert] code").inner_text()


def test_onboarding_board_shows_each_retailers_deadlines_colour_coded(console: Console, unique: str):
    """seed-001 §5 rules 24, 25, 26 (S21 Art7): a retailer licensed a week ago with only its order
    phone maintained shows on the board with its WD1/WD2/WD3 steps breached (red, "已超时") and its
    10/15/20-working-day steps still running (blue, "进行中"); its WD2 step is on the list of overdue
    steps with the fields that were missing (location, batch, route…). Every clock carries a text label
    besides its colour; the retailer's view is shown in Chinese, then in English."""
    admin = token_for(console.base, TENANT)
    customer, name = _retailer(console.base, admin, unique, licensed_days_ago=7)

    _swept(console.base, admin, customer)

    console.sign_in(TENANT)
    console.page.click("nav.side a[href='#/tobacco']")
    board = console.page.wait_for_selector("#tob-onboarding table")
    row = console.page.locator("#tob-onboarding tr", has_text=name)
    assert row.count() == 1, board.inner_text()
    overall = row.locator("td").nth(1).locator("[data-clock]")
    assert overall.get_attribute("class") == "clock-breached" and "已超时" in overall.inner_text()
    # the demo's retailer licensed today: nothing due yet, every step running
    running = console.page.locator("#tob-onboarding td [data-clock=running]")
    assert running.count() >= 1
    # its WD2 step fell due with the core fields missing: an SLA breach on the overdue list
    console.page.wait_for_selector("#tob-overdue table")
    breach = console.page.locator("#tob-overdue tr", has_text=name).filter(has_text="地址、批次、线路")
    assert breach.count() == 1, console.page.locator("#tob-overdue").inner_text()
    assert breach.locator("[data-clock]").get_attribute("class") == "clock-breached"
    assert "地理位置" in breach.inner_text()
    console.check("board")
    console.assert_masked("board")

    row.locator("a.tob-retailer").click()
    console.page.wait_for_selector("#tob-steps table")
    assert name in console.page.locator("#tob-retailer-name").inner_text()
    steps = {r.locator("td").nth(0).inner_text(): r for r in console.page.locator("#tob-steps tbody tr").all()}
    assert len(steps) == 7, list(steps)  # decide, core, market, quota approval, display, deferred, importance
    core = steps["地址、批次、线路等（第2个工作日下班前）"]
    assert core.locator("[data-clock]").get_attribute("class") == "clock-breached"
    assert "地理位置" in core.locator("td").nth(3).inner_text()  # what is still missing, in words
    importance = steps["重视程度、合作程度（20个工作日）"]
    assert importance.locator("[data-clock]").inner_text() == "进行中"
    console.check("retailer")
    console.assert_masked("retailer")

    # English second: the same view in the other language, the API's words included
    console.page.click("#lang")
    console.page.wait_for_selector("#tob-steps th:has-text('Missing now')")
    assert "Running" in console.page.locator("#tob-steps").inner_text()
    console.check("retailer-en")


def test_a_change_is_signed_by_two_people_executed_and_the_customer_watch_listed(console: Console, unique: str):
    """S21 Art12 long-term order-phone change, through the UI: the applicant files it on the written
    application and may not approve it himself (seed-001 §2.4 separation of duties); the account
    manager signs; executing with one sign-off is refused (seed-001 §5 rule 29: executed only after
    both sign-offs); the section chief signs and the change is approved with its one-working-day
    execution clock running, then executed in time. It is the customer's second phone change within
    a month (a temporary one came first), so the customer joins the watch list (seed-001 §5 rule 35)."""
    admin = token_for(console.base, TENANT)
    customer, name = _retailer(console.base, admin, unique, licensed_days_ago=1)
    temporary = graphql(console.base, "mutation($c: ID!, $p: String) { tobaccoTemporaryChangeApply(customerId: $c, "
                                      "kind: ORDER_PHONE, reason: PHONES_FAULTY, phone: $p) { errors { code } } }",
                        admin, c=customer, p=f"136{unique}2")
    assert temporary["tobaccoTemporaryChangeApply"]["errors"] == [], temporary
    manager = _staff(console.base, admin, unique, "am", "客户经理", ("tobacco.sign.account_manager",))
    chief = _staff(console.base, admin, unique, "chief", "科长",
                   ("tobacco.sign.section_chief", "tobacco.customer.maintain", "customer.write"))
    reference = f"电话变更申请-{unique}"

    # the analyst (admin) files the customer's written application
    console.sign_in(TENANT)
    console.go("/tobacco", "#tob-request")
    form = console.page.locator("#tob-request")
    form.locator("#tob-request-customer").select_option(customer)
    form.locator("#tob-request-kind").select_option("long_term_phone")
    assert "客户经理、营销服务科科长" in form.inner_text()  # who must sign, before filing
    form.locator("[name=applicationRef]").fill(reference)
    form.locator("[name=reason]").fill("原订货电话停用")
    form.locator("[name=order_phone]").fill(f"135{unique}3")
    form.locator("button[type=submit]").click()
    state = console.page.wait_for_selector("#tob-change-state[data-state=requested]")
    assert state.inner_text() == "待签批"
    assert f"135{unique}3" not in console.text()  # the new phone is sealed, never shown back
    console.check("change-requested")
    console.assert_masked("change-requested")

    # the applicant may not approve his own application
    console.page.click("#tob-approve")
    assert _error_code(console) == "TOBACCO_APPLICANT_CANNOT_APPROVE"
    assert console.page.locator("#tob-change-state").get_attribute("data-state") == "requested"

    # the account manager signs first
    _switch(console, manager)
    _open_change(console, reference)
    assert console.page.locator("#tob-sign-role").input_value() == "account_manager"
    console.page.locator("#tob-sign [name=note]").fill("核实客户书面申请")
    console.page.click("#tob-approve")
    console.page.wait_for_selector("#tob-change-done")
    expect(console.page.locator("#tob-change-signoffs")).to_contain_text("客户经理（已签）")
    assert console.page.locator("#tob-change-state").get_attribute("data-state") == "requested"

    # the section chief: executing before both sign-offs is refused; then signs and executes
    _switch(console, chief)
    _open_change(console, reference)
    console.page.click("#tob-execute")
    assert _error_code(console) == "TOBACCO_CHANGE_NOT_APPROVED"
    options = console.page.locator("#tob-sign-role option").all_inner_texts()
    assert options == ["营销服务科科长"], options  # only the role still to sign
    console.page.click("#tob-approve")
    console.page.wait_for_selector("#tob-change-state[data-state=approved]")
    due = console.page.locator("#tob-change-due [data-clock]")
    assert due.get_attribute("class") == "clock-running" and due.inner_text() == "进行中"
    console.check("change-approved")
    console.page.click("#tob-execute")
    console.page.wait_for_selector("#tob-change-state[data-state=executed]")
    assert console.page.locator("#tob-change-due [data-clock]").inner_text() == "按时完成"
    console.check("change-executed")
    console.assert_masked("change-executed")

    # back on the board: no longer waiting, and the customer is on the watch list (2 changes this month)
    console.go("/tobacco", "#tob-watch table")
    console.page.wait_for_selector(f"#tob-watch tr:has-text('{name}')")
    listed = console.page.locator("#tob-watch tr", has_text=name)
    assert listed.locator("td").nth(3).inner_text() == "2"
    console.page.wait_for_selector("#tob-changes-requested table, #tob-changes-requested p.muted")
    assert reference not in console.page.locator("#tob-changes-requested").inner_text()
    console.check("watch-list")
    console.assert_masked("watch-list")
