"""The settings screen in headless Chromium (issue 25), as the demo tenant's administrator and over
the public API only: create a user who then signs in in a second browser, reset their password
(they must change it at the next sign-in, issue 16 point 11) and disable them; create an API key
whose secret is shown once and is gone after leaving the screen, use it, revoke it; register and
delete a webhook endpoint (its signing secret shown once); change a vertical's parameter, with the
API's coded validation error first. Every view is screenshotted at both widths and checked by axe-core.
"""

from __future__ import annotations

import httpx

from tests.console.conftest import Console, graphql, token_for

TENANT = "demo-automotive"
PARAMS = "{ tenantVerticals { id parameters { key value overridden } } }"


def _second_tab(console: Console) -> Console:
    """A second browser (its own context: no shared memory, cookies or storage) on the same kehu."""
    context = console.page.context.browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    context.set_default_timeout(15_000)
    return Console(context.new_page(), console.base, console.shots)


def _open_settings(console: Console, ready: str) -> None:
    console.sign_in(TENANT)
    console.go("#/settings", ready)


def _me(base: str, api_key: str) -> httpx.Response:
    return httpx.post(f"{base}/graphql", json={"query": "{ me { apiKeyId } }"},
                      headers={"x-api-key": api_key}, timeout=30)


def test_settings_create_user_who_signs_in_then_reset_and_disable(console: Console, unique: str):
    """Issue 25 (settings): an administrator creates a user with a role and a department from the
    screen; that user signs in in a second browser. A password reset ends their login and makes them
    change it at the next sign-in; once disabled they cannot sign in. Coded errors are shown."""
    _open_settings(console, "#user-create")
    console.check("settings")
    username, password = f"staff{unique}", f"Kehu-{unique}-Temp!"

    form = console.page.locator("#user-create")
    form.locator("[name=username]").fill(username)
    form.locator("[name=displayName]").fill(f"测试员{unique}")
    form.locator("[name=password]").fill("short")
    form.get_by_role("checkbox", name="销售顾问", exact=True).check()
    form.get_by_role("checkbox", name="销售部", exact=True).check()
    form.locator("button[type=submit]").click()
    refused = form.locator(".error").inner_text()
    assert "PASSWORD_TOO_WEAK" in refused, refused  # the API's code, in the form, the input kept

    form.locator("[name=password]").fill(password)
    form.locator("button[type=submit]").click()
    created = console.page.wait_for_selector("#user-created").inner_text()
    assert username in created, created
    row = console.page.locator("section[aria-labelledby=users-title] tr", has_text=username)
    row.wait_for()
    assert "销售顾问" in row.inner_text() and "销售部" in row.inner_text(), row.inner_text()
    assert form.locator("[name=username]").input_value() == ""  # ready for the next one

    other = _second_tab(console)
    try:
        other.sign_in(TENANT, username, password)
        other.page.wait_for_selector("nav.side a[href='#/settings']")
        assert other.page.locator("#password-change").count() == 0

        console.page.locator(f"button.manage-user[data-username='{username}']").click()
        panel = console.page.locator("#user-manage")
        assert username in panel.locator("h3").inner_text()
        console.check("settings-user-manage")
        new_password = f"Kehu-{unique}-Reset!"
        panel.locator("#user-reset [name=newPassword]").fill(new_password)
        panel.locator("#user-reset button[type=submit]").click()
        panel.locator(".good").wait_for()

        # The reset ended their login: a fresh sign-in must change the password first.
        other.page.context.close()
        other = _second_tab(console)
        other.submit_sign_in(TENANT, username, new_password)
        other.page.wait_for_selector("#password-change")

        panel.locator("#user-disable button[type=submit]").click()  # no reason: the API's coded refusal
        assert "REASON_REQUIRED" in panel.locator(".error").inner_text()
        panel.locator("#user-disable [name=reason]").fill("离职")
        panel.locator("#user-disable button[type=submit]").click()
        console.page.wait_for_selector("#user-manage h3:has-text('已停用')")
        assert "已停用" in row.inner_text()

        other.page.context.close()
        other = _second_tab(console)
        other.submit_sign_in(TENANT, username, new_password)
        other.page.wait_for_selector("#signin .error")
        assert other.page.locator("nav.side").count() == 0
    finally:
        other.page.context.close()


def test_settings_api_key_secret_shown_once_then_revoked(console: Console, unique: str):
    """Issue 25 (settings): an API key created on the screen shows its secret once with a copy hint;
    the secret works, is never put in the address or storage, and is gone after leaving the screen;
    a second key of the same name is refused with the API's code; revoking the key stops it."""
    _open_settings(console, "#apikey-create")
    name = f"集成{unique}"
    form = console.page.locator("#apikey-create")
    form.locator("[name=keyName]").fill(name)
    form.locator("details.permissions summary").click()
    form.locator("input[name=permissions][value='customer.read']").check()
    form.locator("button[type=submit]").click()

    shown = console.page.wait_for_selector("#apikey-secret")
    assert "只显示这一次" in shown.inner_text()
    secret = console.page.locator("#apikey-secret input").input_value()
    assert secret.startswith("kk") and len(secret) > 20, secret
    row = console.page.locator("section[aria-labelledby=keys-title] tr", has_text=name)
    row.wait_for()
    assert f"{secret[:3]}…{secret[-4:]}" in row.inner_text() and secret not in row.inner_text()
    kept = console.page.evaluate("() => JSON.stringify(localStorage) + JSON.stringify(sessionStorage)"
                                 " + document.cookie + location.href")
    assert secret not in kept
    assert _me(console.base, secret).json()["data"]["me"]["apiKeyId"], "the new key works"
    console.check("settings-apikey-secret")

    form.locator("[name=keyName]").fill(name)
    form.locator("button[type=submit]").click()
    refused = console.page.locator("section[aria-labelledby=keys-title] .error")
    refused.wait_for()
    assert "API_KEY_NAME_TAKEN" in refused.inner_text()
    assert console.page.locator("#apikey-secret").count() == 0  # a new attempt hides the old secret

    form.locator("[name=keyName]").fill(f"另一{unique}")
    form.locator("button[type=submit]").click()
    console.page.wait_for_selector("#apikey-secret")
    second = console.page.locator("#apikey-secret input").input_value()
    assert second.startswith("kk_") and second != secret
    console.go("#/customers", "a.customer-link")
    console.go("#/settings", "#apikey-create")
    row.wait_for()
    assert console.page.locator("#apikey-secret").count() == 0  # left the screen: the secret is gone
    assert secret not in console.text() and second not in console.text()

    row.locator("button.revoke").click()
    row.locator("button.confirm-revoke").click()
    console.page.wait_for_function(
        "(n) => [...document.querySelectorAll('section[aria-labelledby=keys-title] tr')]"
        ".some((r) => r.innerText.includes(n) && r.innerText.includes('已吊销'))", arg=name)
    assert row.locator("button").count() == 0
    assert "errors" in _me(console.base, secret).json(), "a revoked key is refused"
    console.check("settings-apikey-revoked")


def test_settings_webhook_endpoint_registered_and_deleted(console: Console, unique: str):
    """Issue 25 (settings) / issue 16 point 3: a private address is refused with the API's code; a
    public https endpoint is registered with its signing secret shown once, listed, then deleted."""
    _open_settings(console, "#webhook-create")
    form = console.page.locator("#webhook-create")
    form.locator("[name=url]").fill("https://10.0.0.5/hook")
    form.locator("button[type=submit]").click()
    refused = console.page.locator("section[aria-labelledby=hooks-title] .error")
    refused.wait_for()
    assert "WEBHOOK_URL_FORBIDDEN" in refused.inner_text()

    url = f"https://hooks-{unique}.example.com/kehu"
    form.locator("[name=url]").fill(url)
    form.locator("[name=eventTypes]").fill("customer.created, customer.updated")
    form.locator("[name=description]").fill(f"浏览器测试 {unique}")
    form.locator("button[type=submit]").click()
    console.page.wait_for_selector("#webhook-secret")
    assert console.page.locator("#webhook-secret input").input_value().startswith("whsec_")
    row = console.page.locator("section[aria-labelledby=hooks-title] tr", has_text=url)
    row.wait_for()
    assert "customer.created, customer.updated" in row.inner_text()
    console.check("settings-webhook")

    console.page.locator("#webhook-secret button.dismiss").click()
    assert console.page.locator("#webhook-secret").count() == 0
    row.locator("button.remove").click()
    row.locator("button.confirm-remove").click()
    console.page.wait_for_selector(f"section[aria-labelledby=hooks-title] .good:has-text('{url}')")
    row.wait_for(state="detached")  # the list, read again, no longer holds it
    endpoints = graphql(console.base, "{ webhookEndpoints(first: 100) { nodes { url } } }",
                        token_for(console.base, TENANT))["webhookEndpoints"]["nodes"]
    assert url not in [e["url"] for e in endpoints]


def test_settings_vertical_parameter_update_with_coded_error(console: Console):
    """Issue 25 (settings): a vertical's parameter out of its bounds is refused with the API's
    PARAMETER_INVALID next to the form; a valid value is saved (and read back over the API); an
    emptied number restores the default."""
    _open_settings(console, "#vertical-automotive")
    console.page.locator("#vertical-automotive summary").click()
    form = console.page.locator("#params-automotive")
    field = form.locator("[name=missing_archive_deadline_days]")
    field.fill("99")
    form.locator("button[type=submit]").click()
    error = form.locator(".field:has([name=missing_archive_deadline_days]) .error")  # under the field itself
    error.wait_for()
    assert "PARAMETER_INVALID" in error.inner_text() and "1" in error.inner_text() and "30" in error.inner_text()
    assert field.get_attribute("aria-invalid") == "true"
    console.check("settings-vertical-parameters")

    field.fill("4")
    form.locator("button[type=submit]").click()
    form.locator(".good").wait_for()
    token = token_for(console.base, TENANT)

    def stored() -> dict:
        verticals = graphql(console.base, PARAMS, token)["tenantVerticals"]
        automotive = next(v for v in verticals if v["id"] == "automotive")
        return next(p for p in automotive["parameters"] if p["key"] == "missing_archive_deadline_days")

    assert stored() == {"key": "missing_archive_deadline_days", "value": 4, "overridden": True}

    saved = form.locator(".good").inner_text()
    field.fill("")
    form.locator("button[type=submit]").click()
    console.page.wait_for_function(
        "(before) => document.querySelector('#params-automotive .good')?.innerText !== before", arg=saved)
    assert stored() == {"key": "missing_archive_deadline_days", "value": 2, "overridden": False}
