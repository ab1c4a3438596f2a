"""The complaints screen of the staff console (issue 25) in a real browser: intake, the list with its
clocks (colour and words), a case with its transitions and timeline, pause and resume, the report.

The medical-devices flow is the product-quality complaint of seed 003 R2/R3 (the regulation behind
seed 002's R5-37 "complaint handling with a configured handling time"); the property-management flow
of demo-real-estate is seed 003 R10 and has a paused state (waiting on the customer)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHONE = "13812345678"  # typed at intake: from then on only ever shown masked


def _open_screen(console, tenant: str) -> None:
    console.sign_in(tenant)
    console.page.locator("nav.side a", has_text="投诉").click()
    console.page.wait_for_selector("#complaint-intake")
    console.page.wait_for_selector("#complaint-list")


def _intake(console, subject: str, *, category: str | None = None) -> str:
    """Take a complaint through the intake form; its number."""
    form = console.page.locator("#complaint-intake")
    if category:
        form.locator("#intake-category").select_option(category)
    form.locator("#intake-channel").select_option("phone")
    form.locator("[name=subject]").fill(subject)
    form.locator("[name=complainantName]").fill("王先生")
    form.locator("[name=complainantPhone]").fill(PHONE)
    form.locator("[name=complainantAddress]").fill("北京市朝阳区建国路1号")
    form.locator("button[type=submit]").click()
    taken = console.page.locator("#complaint-taken")
    taken.wait_for()
    # the typed personal data left the form once the API held it
    assert form.locator("[name=complainantPhone]").input_value() == ""
    return taken.locator("a").inner_text().strip()


def _row(console, number: str):
    row = console.page.locator(f"#complaint-list tr:has(a[data-number='{number}'])")
    row.wait_for()
    return row


def _transition(console, action: str, **fields: str) -> None:
    form = console.page.locator("#complaint-transition")
    form.locator("#transition-action").select_option(action)
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("(e) => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()


def _timeline_count(console) -> int:
    return int(console.page.locator("#complaint-timeline").get_attribute("data-count"))


def test_medical_devices_daily_complaint_flow_r2_1_r2_2_r3_2_r3_11(console, unique):
    """Sales takes a product-quality complaint (seed 003 R2-2: sales records it, first responder),
    numbered YYMMCC (R2-1, R3-2); it is listed with no clock until the GM office accepts it with the
    anomaly's data and the market; accepted for a domestic customer, the closure clock runs with 15
    calendar days (R3-11; seed 002 R5-37: a configured handling time); the timeline grows; the report
    counts the clock as pending. The complainant's phone and address stay masked throughout."""
    page = console.page
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/graphql") else None)
    _open_screen(console, "demo-medical-devices")
    subject = f"导管漏气 {unique}"
    number = _intake(console, subject, category="quality")
    yymm = datetime.now(SHANGHAI).strftime("%y%m")
    assert re.fullmatch(rf"{yymm}\d{{2}}", number), number  # YYMMCC (R2-1, R3-2)

    row = _row(console, number)
    assert subject in row.inner_text()
    assert "业务部已登记" in row.inner_text()
    row.locator(".muted", has_text="未计时").wait_for()  # the closure clock starts at acceptance, not intake
    assert "138****5678" in row.inner_text()
    assert PHONE not in console.text()
    console.assert_masked("complaints list")
    console.check("complaints-list")

    row.locator("a.complaint-link").click()
    page.wait_for_selector("#complaint-title")
    assert number in page.locator("#complaint-title").inner_text()
    assert page.locator("#complaint-state").get_attribute("data-state") == "received"
    complainant = page.locator("#complaint-complainant").inner_text()
    assert "王先生" in complainant and "138****5678" in complainant and "建国路" not in complainant
    assert _timeline_count(console) == 1
    console.assert_masked("complaint before acceptance")
    console.check("complaint-received")

    # the required fields are the flow's: accepting without them is refused with the API's code
    _transition(console, "accept")
    error = page.locator("#complaint-transition [role=alert]")
    error.wait_for()
    assert "COMPLAINT_FIELDS_REQUIRED" in error.inner_text()
    assert page.locator("#complaint-state").get_attribute("data-state") == "received"

    _transition(console, "accept", market="domestic", order_number=f"SO-{unique}", part_number="MD-4471",
                ship_date="2026-09-20", quantity="200", defective_quantity="3", customer_requirement="退货并补发")
    page.wait_for_selector("#complaint-moved")
    page.wait_for_selector("#complaint-state[data-state=investigating]")
    assert "总经理室已受理，调查中" in page.locator("#complaint-state").inner_text()
    page.wait_for_function("() => document.querySelector('#complaint-timeline').dataset.count === '3'")
    kinds = page.locator("#complaint-timeline .event-kind").evaluate_all("(es) => es.map((e) => e.dataset.kind)")
    assert kinds == ["opened", "transitioned", "clock_started"]
    clock = page.locator("#complaint-clocks [data-timer=closure]")
    assert clock.get_attribute("data-clock") == "running"
    assert "clock-running" in clock.get_attribute("class")
    text = clock.inner_text()
    assert "进行中" in text  # the state in words, not only in colour
    assert re.search(r"剩余 (14天23小时|15天0小时)", text), text  # 15 days for a domestic customer (R3-11)
    assert f"SO-{unique}" in page.locator("#complaint-fields").inner_text()
    console.assert_masked("complaint after acceptance")
    console.check("complaint-accepted")

    # back in the list, the case shows its running clock
    page.locator("a", has_text="返回投诉列表").click()
    listed = _row(console, number).locator("[data-clock]")
    listed.wait_for()
    assert listed.get_attribute("data-clock") == "running" and "clock-running" in listed.get_attribute("class")
    assert "进行中" in listed.inner_text()

    page.locator("#complaint-report-link").click()
    page.wait_for_selector("#complaint-report-result")
    ontime = page.locator("section[aria-labelledby=complaint-report-ontime] tr", has_text="国内十五天")
    cells = ontime.first.locator("td").all_inner_texts()
    assert int(cells[4]) >= 1, cells  # pending: the running closure clock
    volumes = page.locator("section[aria-labelledby=complaint-report-volumes] tr", has_text="质量异常")
    volumes = volumes.first.locator("td").all_inner_texts()
    assert int(volumes[3]) >= 1 and int(volumes[4]) >= 1, volumes
    console.assert_masked("complaint report")
    console.check("complaint-report")

    # the report narrowed to a period without this case counts nothing of it
    report = page.locator("#complaint-report")
    report.locator("[name=since]").fill("2020-01-01")
    report.locator("[name=until]").fill("2020-02-01")
    report.locator("button[type=submit]").click()
    page.locator("h2#complaint-report-total", has_text=re.compile(r"投诉总数: 0$")).wait_for()
    assert any("complaintTransition" in body for body in sent)
    assert not any("Unmask" in body for body in sent)  # the screen never asks for personal data in clear


def test_real_estate_complaint_pauses_while_waiting_on_the_customer_r10(console, unique):
    """A property-management complaint (seed 003 R10) dispatched with a handling deadline, put on
    hold while waiting on the customer: its clocks show as paused (colour and words), and resuming
    runs them again."""
    page = console.page
    _open_screen(console, "demo-real-estate")
    page.locator("#intake-flow").select_option("real_estate/property_complaint")
    number = _intake(console, f"电梯故障 {unique}", category="routine")
    row = _row(console, number)
    clock = row.locator("[data-timer=forward_24h]")
    clock.wait_for()  # the 24 h clock runs from intake
    assert clock.get_attribute("data-clock") == "running" and "进行中" in clock.inner_text()
    console.assert_masked("property complaints list")

    row.locator("a.complaint-link").click()
    page.wait_for_selector("#complaint-title")
    _transition(console, "forward")
    page.wait_for_selector("#complaint-state[data-state=at_front_desk]")
    deadline = (datetime.now(SHANGHAI) + timedelta(days=10)).strftime("%Y-%m-%dT18:00")
    _transition(console, "dispatch", department="工程部", handling_deadline=deadline)
    page.wait_for_selector("#complaint-state[data-state=dispatched]")
    _transition(console, "wait_for_customer", reason="等待业主提供维修时间")
    page.wait_for_selector("#complaint-state[data-state=waiting_customer]")

    paused = page.locator("#complaint-clocks [data-timer=handling_deadline]")
    assert paused.get_attribute("data-clock") == "paused"
    assert "clock-paused" in paused.get_attribute("class") and "已暂停" in paused.inner_text()
    met = page.locator("#complaint-clocks [data-timer=forward_24h]")
    assert met.get_attribute("data-clock") == "met" and "按时完成" in met.inner_text()
    assert page.locator("#complaint-resume").is_visible()
    console.assert_masked("complaint on hold")
    console.check("complaint-on-hold")

    # the list shows the held case's clocks as paused, in words too, in either language
    page.locator("a", has_text="返回投诉列表").click()
    held = _row(console, number).locator("[data-timer=handling_deadline]")
    held.wait_for()
    assert held.get_attribute("data-clock") == "paused" and "clock-paused" in held.get_attribute("class")
    assert "已暂停" in held.inner_text()
    page.locator("#lang").click()
    page.locator("h1", has_text="Complaints").wait_for()
    assert "Paused" in held.inner_text()
    console.check("complaints-list-on-hold-en")
    page.locator("#lang").click()
    page.locator("h1", has_text="投诉").wait_for()

    _row(console, number).locator("a.complaint-link").click()
    page.wait_for_selector("#complaint-resume")
    page.locator("#complaint-resume").click()
    page.wait_for_selector("#complaint-state[data-state=dispatched]")
    page.locator("#complaint-clocks [data-timer=handling_deadline][data-clock=running]").wait_for()
    kinds = page.locator("#complaint-timeline .event-kind").evaluate_all("(es) => es.map((e) => e.dataset.kind)")
    assert "clock_paused" in kinds and "clock_resumed" in kinds, kinds
