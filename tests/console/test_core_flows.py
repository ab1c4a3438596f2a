"""The staff console's core flows in headless Chromium (issue 25): sign in, customers (create, edit,
stale edit, merge and undo, unmask with a reason), import with progress, audit verification, a
session that ends mid-edit, and a user without unmask over every screen.

Each screen is screenshotted at phone and desktop width and checked with axe-core (``console.check``).
"""

from __future__ import annotations

import json
import re

from gateway.cli import DEMO_ADMIN
from tests.console.conftest import Console, graphql, token_for

TENANT = "demo-automotive"
CREATE = """mutation($i: CustomerInput!) { customerCreate(input: $i) { customer { id version } errors { code } } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $i: CustomerInput!, $r: String!) {
  customerUpdate(id: $id, version: $v, input: $i, reason: $r) { customer { version } errors { code } } }"""


def _phone(unique: str, last: str = "1") -> str:
    return f"139{unique}{last}"


def _create(base: str, token: str, surname: str, given: str, phone: str) -> str:
    made = graphql(base, CREATE, token, i={"kind": "person", "surname": surname, "givenName": given, "phones": [phone]})
    assert made["customerCreate"]["errors"] == [], made
    return made["customerCreate"]["customer"]["id"]


def test_sign_in_language_switch_and_sign_out_zh_first(console: Console):
    """Issue 25: the console opens in Chinese with the sign-in form; a wrong password shows the API's
    coded error; signing in shows the customer list; the language switch turns the words to English
    (and the API's errors with them); signing out returns to the form and forgets the token."""
    console.open()
    console.page.wait_for_selector("#signin")
    assert console.page.locator("#signin-title").inner_text() == "登录"
    assert console.page.evaluate("() => document.documentElement.lang") == "zh-CN"
    console.check("signin")

    form = console.page.locator("#signin")
    form.locator("[name=tenant]").fill(TENANT)
    form.locator("[name=username]").fill(DEMO_ADMIN.username)
    form.locator("[name=password]").fill("not-the-password")
    form.locator("button[type=submit]").click()
    refused = console.page.wait_for_selector("#signin .error")
    assert "INVALID_CREDENTIALS" in refused.inner_text() or "SIGN_IN" in refused.inner_text(), refused.inner_text()

    console.sign_in(TENANT)
    console.page.wait_for_selector("a.customer-link")
    assert console.page.locator("nav.side a").first.inner_text() == "客户"
    console.page.click("#lang")
    console.page.wait_for_selector("nav.side a:text('Customers')")
    assert console.page.evaluate("() => document.documentElement.lang") == "en"
    stored = console.page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
                                   " + document.cookie + location.href")
    assert "eyJ" not in stored  # the token lives in memory only, never in storage, a cookie or the address

    console.page.click("#signout")
    console.page.wait_for_selector("#signin")
    assert console.page.locator("nav.side").count() == 0
    console.page.click("#lang")  # back to Chinese for the next test's context (the choice is stored)


def test_customer_create_edit_unmask_and_merge_with_undo(console: Console, unique: str):
    """Issue 25 core flows: create a customer from the list screen; its detail shows the phone masked
    (CSM masking); edit it (the history gains a version with the reason); unmask with a reason shows the
    number in clear and the audit log holds the unmask; merge a duplicate into it and undo the merge."""
    token = token_for(console.base, TENANT)
    twin = _create(console.base, token, "钱", f"副本{unique}", _phone(unique, "2"))
    console.sign_in(TENANT)
    console.page.wait_for_selector("a.customer-link")
    console.check("customers")

    create = console.page.locator("#customer-create")
    create.locator("[name=surname]").fill("钱")
    create.locator("[name=givenName]").fill(f"浏览器{unique}")
    create.locator("[name=phone]").fill(_phone(unique))
    create.locator("button[type=submit]").click()
    console.page.wait_for_selector(f"#customer-name:text('钱浏览器{unique}')")
    assert console.page.locator("#customer-phones .masked").inner_text() == f"139****{_phone(unique)[-4:]}"
    console.assert_masked("customer detail")
    console.check("customer-detail")

    edit = console.page.locator("#customer-edit")
    edit.locator("[name=givenName]").fill(f"改名{unique}")
    edit.locator("[name=reason]").fill("客户来电更正姓名")
    edit.locator("button[type=submit]").click()
    console.page.wait_for_selector(f"#customer-name:text('钱改名{unique}')")
    history = console.page.locator("section[aria-labelledby=history-title]")
    history.locator("td:text('客户来电更正姓名')").wait_for()

    unmask = console.page.locator("#unmask")
    unmask.locator("[name=reason]").fill("核实购车人身份")
    unmask.locator("button[type=submit]").click()
    console.page.wait_for_selector("#customer-phones .unmasked")
    assert console.page.locator("#customer-phones").inner_text() == "+86" + _phone(unique)  # stored as E.164

    merge = console.page.locator("#merge")
    merge.locator("[name=mergedId]").fill(twin)
    merge.locator("[name=mergeReason]").fill("同一客户重复建档")
    merge.locator("button[type=submit]").click()
    merges = console.page.locator("section[aria-labelledby=merges-title]")
    merges.locator(f"code:text('{twin}')").wait_for()
    merges.locator("button.undo").click()
    merges.locator("button.undo").wait_for(state="detached")  # undone: its time shows instead of the button
    assert merges.locator(f"code:text('{twin}')").count() == 1

    console.go("#/audit", "#verify")
    search = console.page.locator("section[aria-labelledby=audit-search]")
    search.locator("[name=action]").fill("customer.unmasked")
    search.locator("button[type=submit]").click()
    search.locator("code:text('customer.unmasked')").first.wait_for()


def test_a_stale_edit_is_refused_shown_as_a_conflict_and_the_input_is_kept(console: Console, unique: str):
    """Issue 25 point 3 (optimistic concurrency): while a user edits a customer, someone else saves a
    change; the user's save is refused with VERSION_CONFLICT, the console shows who changed what since,
    and what the user typed is still in the form; after taking the new version the save goes through."""
    token = token_for(console.base, TENANT)
    customer = _create(console.base, token, "孙", f"并发{unique}", _phone(unique, "3"))
    console.sign_in(TENANT)
    console.go(f"#/customers/{customer}", "#customer-edit")
    edit = console.page.locator("#customer-edit")
    edit.locator("[name=givenName]").fill(f"浏览器输入{unique}")
    edit.locator("[name=reason]").fill("前台修改")

    # Behind the user's back: the same record changed through the API (version 1 -> 2).
    changed = graphql(console.base, UPDATE, token, id=customer, v=1, i={"surname": "孙", "givenName": f"接口修改{unique}"},
                      r="接口同步")
    assert changed["customerUpdate"]["errors"] == [] and changed["customerUpdate"]["customer"]["version"] == 2

    edit.locator("button[type=submit]").click()
    conflict = console.page.wait_for_selector("#conflict")
    console.page.wait_for_selector("#conflict li")
    shown = conflict.inner_text()
    assert "v2" in shown and f"({DEMO_ADMIN.username})" in shown and "given_name" in shown, shown  # who, what
    assert edit.locator("[name=givenName]").input_value() == f"浏览器输入{unique}"  # nothing typed is lost
    assert edit.locator("[name=reason]").input_value() == "前台修改"
    assert console.page.locator("#customer-name").inner_text() == f"孙接口修改{unique}"  # the record re-read
    console.check("customer-conflict")

    console.page.click("#rebase")
    edit.locator("button[type=submit]").click()
    console.page.wait_for_selector(f"#customer-name:text('孙浏览器输入{unique}')")


def test_a_session_that_ends_mid_edit_keeps_the_edit_and_sends_it_after_signing_in(console: Console, unique: str):
    """Issue 25: when the session ends while the user edits (the access token and the refresh are
    refused), the console asks them to sign in again over the screen; the screen and what they typed
    stay, and the save is re-sent once they are signed in: it lands exactly once."""
    token = token_for(console.base, TENANT)
    customer = _create(console.base, token, "周", f"过期{unique}", _phone(unique, "4"))
    console.sign_in(TENANT)
    console.go(f"#/customers/{customer}", "#customer-edit")
    edit = console.page.locator("#customer-edit")
    edit.locator("[name=givenName]").fill(f"过期后保存{unique}")
    edit.locator("[name=reason]").fill("客户要求更正")

    ended = {"update refused": False, "signed in again": False}

    def expire_once(route):
        """The server's view of an ended session: this token and its refresh are refused until the
        user signs in again (the update once, every refresh until the new login)."""
        body = route.request.post_data or ""
        if "login(" in body:
            ended["signed in again"] = True
        refuse = ("CustomerUpdate" in body and not ended["update refused"]) or (
            "tokenRefresh" in body and not ended["signed in again"])
        if "CustomerUpdate" in body:
            ended["update refused"] = True
        if refuse:
            route.fulfill(status=401, content_type="application/json",
                          body=json.dumps({"errors": [{"message": "session ended",
                                                       "extensions": {"code": "UNAUTHENTICATED"}}]}))
        else:
            route.continue_()

    console.page.route("**/graphql", expire_once)
    edit.locator("button[type=submit]").click()
    overlay = console.page.wait_for_selector("div.overlay #signin")
    assert console.page.locator("main").get_attribute("aria-hidden") == "true"
    assert edit.locator("[name=givenName]").input_value() == f"过期后保存{unique}"
    console.shoot("session-expired")
    overlay.query_selector("[name=password]").fill(DEMO_ADMIN.password)
    overlay.query_selector("button[type=submit]").click()
    console.page.wait_for_selector(f"#customer-name:text('周过期后保存{unique}')")
    assert console.page.locator("div.overlay").count() == 0
    read = graphql(console.base, "query($id: ID!) { customer(id: $id) { version givenName } }", token, id=customer)
    assert read["customer"] == {"version": 2, "givenName": f"过期后保存{unique}"}  # sent once, after sign-in


def test_import_shows_progress_and_each_bad_row(console: Console, unique: str, tmp_path):
    """Issue 25: an import runs as a background job; the console shows its progress until it ends, then
    the rows it refused, each with its line, field and coded reason; the good rows are in the list."""
    rows = ["kind,surname,given_name,phones"]
    rows += [f"person,吴,导入{unique}{i:02d},139{unique[:5]}{i:03d}" for i in range(30)]
    rows += [f"person,吴,坏号码{unique},12345"]
    upload = tmp_path / "customers.csv"
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")

    console.sign_in(TENANT)
    console.page.wait_for_selector("#customer-import")
    console.page.set_input_files("#import-file", str(upload))
    console.page.locator("#customer-import button[type=submit]").click()
    job = console.page.wait_for_selector("#import-job")
    assert job.query_selector("progress") is not None
    console.page.wait_for_selector("#import-job[data-status=succeeded]", timeout=60_000)
    done, total = re.match(r"(\d+) / (\d+)", console.page.locator("#import-job .progress").inner_text()).groups()
    assert done == total and int(total) >= 31
    bad = console.page.wait_for_selector("#import-errors")
    text = bad.inner_text()
    assert "phones" in text and "32" in text, text  # line 32 of the file (the header is line 1)
    console.check("customers-import")

    console.page.fill("form[role=search] [name=q]", f"导入{unique}")
    console.page.locator("form[role=search] button[type=submit]").click()
    console.page.wait_for_selector(f"a.customer-link:text('吴导入{unique}00')")


def test_audit_search_and_chain_verification(console: Console):
    """Issue 25 (audit): the audit screen lists the tenant's entries and verifies the tamper-evident
    chain on request, saying how many entries it checked."""
    console.sign_in(TENANT)
    console.go("#/audit", "#verify")
    console.page.locator("section[aria-labelledby=audit-search] td").first.wait_for()
    console.page.click("#verify")
    verdict = console.page.wait_for_selector("#verification")
    assert "good" in (verdict.get_attribute("class") or "")
    checked = int(verdict.inner_text().rsplit(":", 1)[1].strip().replace(",", ""))
    assert checked > 0
    console.check("audit")


def test_settings_show_users_roles_and_enabled_verticals(console: Console):
    """Issue 25 (settings): the tenant's enabled verticals, its users and roles are on the settings screen."""
    console.sign_in(TENANT)
    console.go("#/settings", "section[aria-labelledby=users-title] td")
    assert DEMO_ADMIN.username in console.page.locator("section[aria-labelledby=users-title]").inner_text()
    assert "系统管理员" in console.page.locator("section[aria-labelledby=roles-title]").inner_text()
    assert "automotive" in console.page.locator("section[aria-labelledby=verticals-title]").inner_text().lower() \
        or "汽车" in console.page.locator("section[aria-labelledby=verticals-title]").inner_text()
    console.check("settings")
