"""Issue 25 point 2: a user without the unmask permission never sees a full phone or resident ID
number on any screen of the console, in any demo tenant (browser test over every screen)."""

from __future__ import annotations

import pytest

from tests.console.conftest import Console, graphql, token_for

TENANTS = ("demo-automotive", "demo-real-estate", "demo-medical-devices", "demo-tobacco")
RESET, CHANGED = "Reset-pass-2026!y", "Changed-pass-2026!z"


def _viewer_without_unmask(base: str, tenant: str, username: str) -> None:
    """A user holding every role of the tenant that does not give customer.pii.unmask (so every
    screen the tenant has is theirs to see), whose password the administrator just reset."""
    admin = token_for(base, tenant)
    roles = graphql(base, "{ roles(first: 100) { nodes { id permissions { permission } } } }", admin)["roles"]["nodes"]
    allowed = [r["id"] for r in roles if all(p["permission"] != "customer.pii.unmask" for p in r["permissions"])]
    made = graphql(base, "mutation($i: UserCreateInput!) { userCreate(input: $i) { user { id } errors { code } } }",
                   admin, i={"username": username, "displayName": "只读查看员", "password": "Viewer-pass-2026!x",
                             "roleIds": allowed})
    assert made["userCreate"]["errors"] == [], made
    reset = graphql(base, "mutation($id: ID!, $p: String!) { userPasswordReset(id: $id, newPassword: $p) { ok } }",
                    admin, id=made["userCreate"]["user"]["id"], p=RESET)
    assert reset["userPasswordReset"]["ok"]


def _settle(console: Console) -> None:
    """Let the screen's queries answer (no 'loading' left, then a short quiet period)."""
    console.page.wait_for_function("() => !document.querySelector('main [aria-live=polite]')", timeout=15_000)
    console.page.wait_for_timeout(300)


@pytest.mark.parametrize("tenant", TENANTS)
def test_a_user_without_unmask_never_sees_a_full_number_on_any_screen(console: Console, unique: str, tenant: str):
    """Issue 25 point 2 (CSM masking): after the password change a reset password requires, the user
    walks every screen the navigation offers them, a customer's detail and the first detail view of
    each screen; no full mobile or ID number appears anywhere (text or field values). Asking to unmask
    is refused with the API's coded error and the numbers stay masked."""
    username = f"viewer{unique}"
    _viewer_without_unmask(console.base, tenant, username)

    console.open()
    form = console.page.locator("#signin")
    form.locator("[name=tenant]").fill(tenant)
    form.locator("[name=username]").fill(username)
    form.locator("[name=password]").fill(RESET)
    form.locator("button[type=submit]").click()
    change = console.page.wait_for_selector("#password-change")  # a reset password must be changed first
    console.check("password-change")
    change.query_selector("[name=current]").fill(RESET)
    change.query_selector("[name=new]").fill(CHANGED)
    change.query_selector("button[type=submit]").click()
    notice = console.page.wait_for_selector("#signin-notice")  # told why: sign in with the new password
    assert "新密码" in notice.inner_text()
    console.sign_in(tenant, username, CHANGED)

    console.page.wait_for_selector("a.customer-link")
    _settle(console)
    assert "****" in console.text()  # customers with numbers are listed, masked: the check below means something
    console.assert_masked(f"{tenant} customers")

    links = console.page.locator("nav.side a")
    routes = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert len(routes) >= 3, routes
    for route in routes:
        console.go(route, "main h1")
        _settle(console)
        console.assert_masked(f"{tenant} {route}")
        first = console.page.locator("main a[href^='#/']:not([href='#/customers'])").first
        if first.count():  # the screen's first detail view (a customer, a complaint, an archive …)
            target = first.get_attribute("href")
            console.go(target, "main h1")
            _settle(console)
            console.assert_masked(f"{tenant} {target}")

    console.go("#/customers", "a.customer-link")
    console.page.locator("a.customer-link").first.click()
    console.page.wait_for_selector("#customer-phones")
    _settle(console)
    console.assert_masked(f"{tenant} customer detail")
    unmask = console.page.locator("#unmask")
    unmask.locator("[name=reason]").fill("我想看看完整号码")
    unmask.locator("button[type=submit]").click()
    refused = console.page.wait_for_selector("section[aria-labelledby=details-title] .error")
    assert "PERMISSION_DENIED" in refused.inner_text()
    console.assert_masked(f"{tenant} customer detail after a refused unmask")
