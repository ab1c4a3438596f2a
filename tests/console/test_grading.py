"""The grading screen in a real browser (issues 20 and 25) on demo-medical-devices, whose vertical
declares the department-scoped customer_grade scheme (VIP ≤ 15 %, 优选 ≤ 30 % of a department's
customers, hard caps), the blacklist rules and the monthly on-site visit plans.

Daily flow: propose a review run and read its what-if (changes, cap violations with the customers
holding the grade), approve it as a second person and try to publish it; propose a customer for
the blacklist and have another user approve it; put customers on visit plans, see the due visits in
service-priority order and the overdue report, and record a visit with its summary report.
"""

from __future__ import annotations

from datetime import date, timedelta

from tests.console.conftest import Console, graphql, token_for

TENANT = "demo-medical-devices"
APPROVER_PASSWORD = "Approver-pass-2026!x"
APPROVER_GRANTS = ("customer.read", "customer.write", "department.read", "medical_devices.grade.assign",
                   "blacklist.read", "blacklist.approve", "blacklist.propose")
CREATE = "mutation($i: CustomerInput!) { customerCreate(input: $i) { customer { id } errors { code message } } }"


def _departments(base: str, token: str) -> dict[str, str]:
    found = graphql(base, "{ departments(first: 100) { nodes { id name } } }", token)["departments"]["nodes"]
    return {d["name"]: d["id"] for d in found}


def _customer(base: str, token: str, name: str, department_id: str) -> str:
    made = graphql(base, CREATE, token, i={"kind": "organisation", "orgName": name, "departmentId": department_id})
    assert made["customerCreate"]["errors"] == [], made
    return made["customerCreate"]["customer"]["id"]


def _approver(base: str, token: str, unique: str) -> str:
    """A second person who may grade and decide on blacklist proposals (separation of duties: the
    proposer of a run or an entry may not approve it); their username."""
    role = graphql(base, "mutation($i: RoleInput!) { roleCreate(input: $i) { role { id } errors { code } } }", token,
                   i={"name": f"分级审批{unique}",
                      "permissions": [{"permission": p, "scope": "TENANT"} for p in APPROVER_GRANTS]})["roleCreate"]
    assert role["errors"] == [], role
    username = f"approver{unique}"
    user = graphql(base, "mutation($i: UserCreateInput!) { userCreate(input: $i) { user { id } errors { code } } }",
                   token, i={"username": username, "displayName": f"审批员{unique}", "password": APPROVER_PASSWORD,
                             "roleIds": [role["role"]["id"]]})["userCreate"]
    assert user["errors"] == [], user
    return username


def _error(console: Console, code: str) -> str:
    box = console.page.locator("p.error", has_text=code)
    box.wait_for()
    return box.inner_text()


def _switch_user(console: Console, username: str, password: str) -> None:
    console.page.locator("#signout").click()
    console.page.wait_for_selector("#signin")
    console.sign_in(TENANT, username, password)


def _propose(console: Console, department: str, all_grade: str) -> str:
    """Propose a review run of a department through the form, every listed customer given
    ``all_grade`` by hand; the id of the run the screen opens."""
    console.go("/grading", "#review-propose")
    form = console.page.locator("#review-propose")
    form.locator("select[name=scope]").select_option(label=department)
    form.locator("select.proposal-grade").first.wait_for()
    form.locator("select[name=all]").select_option(label=all_grade)
    form.locator("button[type=submit]").click()
    console.page.wait_for_selector("#whatif-rows")
    return console.page.evaluate("() => location.hash").rsplit("/", 1)[-1]


def test_review_run_what_if_cap_violation_and_second_person_approval_md4d_md8_md9_md19(console: Console, unique: str):
    """MD4 d (the hard cap of a department's customers: VIP ≤ 15 %), MD8 / MD9 (the periodic review
    run: proposed, approved by another permitted person, published atomically), MD19 (a grade holds in
    its department). A run grading every customer of 销售部 VIP shows its what-if: every change and the
    VIP cap violation naming the holders, marked not publishable; its proposer's approval is refused
    (GRADE_REVIEW_SAME_PERSON); a second user approves it and publishing is refused (GRADE_CAP_EXCEEDED).
    A second run, started as a long job that proposes from the customers' facts (合格类 without any),
    is approved and published by the second user."""
    admin = token_for(console.base, TENANT)
    sales = _departments(console.base, admin)["销售部"]
    over, calm = f"分级超限{unique}公司", f"分级合格{unique}公司"
    _customer(console.base, admin, over, sales)
    calm_id = _customer(console.base, admin, calm, sales)
    approver = _approver(console.base, admin, unique)

    console.sign_in(TENANT)
    console.page.locator("nav.side a", has_text="客户分级").click()
    console.page.wait_for_selector("#review-propose")
    console.check("grading-reviews")

    capped = _propose(console, "销售部", "VIP类")
    page = console.page
    for name in (over, calm):  # names load after the rows
        page.locator("#whatif-rows .grading-customer", has_text=name).wait_for()
    rows = page.locator("#whatif-rows").inner_text()
    assert over in rows and calm in rows and "VIP类" in rows, rows
    population = int(page.locator("#whatif-population").inner_text())
    assert population >= 2 and int(page.locator("#whatif-changes").inner_text()) == population
    assert "bad" in (page.locator("#whatif-publishable").get_attribute("class") or "")
    page.locator("#whatif-violations .grading-customer").first.wait_for()
    violations = page.locator("#whatif-violations").inner_text()
    assert "VIP类" in violations and "15%" in violations and f"{population} / {population}" in violations, violations
    assert "硬性上限" in violations, violations
    console.check("grading-review-what-if")
    console.assert_masked("grading-review-what-if")

    page.locator("#review-approve").click()
    assert "GRADE_REVIEW_SAME_PERSON" in _error(console, "GRADE_REVIEW_SAME_PERSON")

    # The same department reviewed from its customers' facts as a long job, with progress: none has
    # facts here, so every one is proposed 合格类 (MD6), which has no cap.
    console.go("/grading", "#review-propose")
    page.locator("#review-propose select[name=scope]").select_option(label="销售部")
    page.locator("#review-propose select.proposal-grade").first.wait_for()
    page.locator("#review-start").click()
    page.wait_for_selector("#whatif-rows")
    fine = page.evaluate("() => location.hash").rsplit("/", 1)[-1]
    assert fine != capped
    page.locator("#whatif-rows tr", has_text=calm).wait_for()
    calm_row = page.locator("#whatif-rows tr", has_text=calm).inner_text()
    assert "合格类" in calm_row, calm_row  # the others: computed from their facts (none here: 合格类)
    assert "good" in (page.locator("#whatif-publishable").get_attribute("class") or "")
    assert page.locator("#whatif-violations").count() == 0

    _switch_user(console, approver, APPROVER_PASSWORD)
    console.go(f"/grading/review/{capped}", "#review-approve")
    page.locator("#review-approve").click()
    page.wait_for_selector("#review-publish")
    assert page.locator("#review-status").inner_text() == "已审批"
    page.locator("#review-publish").click()
    refusal = _error(console, "GRADE_CAP_EXCEEDED")
    assert "15" in refusal, refusal
    assert page.locator("#review-status").inner_text() == "已审批"  # nothing published
    console.check("grading-review-refused")

    console.go(f"/grading/review/{fine}", "#review-approve")
    page.locator("#review-approve").click()
    page.wait_for_selector("#review-publish")
    page.locator("#review-publish").click()
    page.locator("#review-status", has_text="已发布").wait_for()
    grades = graphql(console.base, "query($id: ID!) { customerGrades(customerId: $id) { nodes { scopeKey grade } } }",
                     admin, id=calm_id)["customerGrades"]["nodes"]
    assert grades == [{"scopeKey": sales, "grade": "qualified"}], grades

    console.go("/grading", "#grading-reviews .review-link")
    listed = page.locator("#grading-reviews").inner_text()
    assert "已发布" in listed and "已审批" in listed, listed


def test_blacklist_proposal_needs_another_user_and_then_blocks_visits_md13_md14_md15(console: Console, unique: str):
    """MD13 (a blacklist entry is proposed with a reason and evidence and approved by someone else:
    BLACKLIST_SAME_PERSON for its proposer), MD14 (an entry in force blocks business with the customer in
    its department: recording a visit is refused with CUSTOMER_BLACKLISTED), MD15 (a department entry
    lasts six months by default: its expiry is shown)."""
    admin = token_for(console.base, TENANT)
    service = _departments(console.base, admin)["客服部"]
    name = f"黑名单测试{unique}公司"
    customer = _customer(console.base, admin, name, service)
    planned = graphql(console.base, "mutation($c: ID!) { visitPlanSet(customerId: $c, vertical: \"medical_devices\", "
                      "grade: \"vip\") { schedules { id } errors { code } } }", admin, c=customer)["visitPlanSet"]
    assert planned["errors"] == [] and planned["schedules"], planned
    approver = _approver(console.base, admin, unique)

    console.sign_in(TENANT)
    console.go("/grading/blacklist", "#blacklist-propose")
    page = console.page
    form = page.locator("#blacklist-propose")
    form.locator("[name=customer-search]").fill(name)
    form.locator("button.customer-search").click()
    form.locator("select[name=customer]").wait_for()
    assert name in form.locator("select[name=customer]").inner_text()
    form.locator("select[name=scope]").select_option("DEPARTMENT")
    form.locator("select[name=department]").select_option(label="客服部")
    form.locator("[name=reason]").fill("多次逾期付款，造成重大损失")
    form.locator("[name=evidence]").fill("催款函三份")
    form.locator("[name=reference]").fill(f"CW-{unique}")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#blacklist-proposed")
    row = page.locator("#blacklist-entries tr", has_text=name)
    row.wait_for()
    assert "待审批" in row.inner_text() and "客服部" in row.inner_text(), row.inner_text()
    console.check("grading-blacklist")
    console.assert_masked("grading-blacklist")

    row.locator("a.entry-link").click()
    page.wait_for_selector("#entry-approve")
    entry = page.evaluate("() => location.hash").rsplit("/", 1)[-1]
    page.locator("#entry-approve").click()
    assert "BLACKLIST_SAME_PERSON" in _error(console, "BLACKLIST_SAME_PERSON")
    assert page.locator("#entry-state").inner_text() == "待审批"
    console.check("grading-blacklist-entry")

    _switch_user(console, approver, APPROVER_PASSWORD)
    console.go(f"/grading/blacklist/{entry}", "#entry-approve")
    page.locator("[name=text]").fill("核实无误")
    page.locator("#entry-approve").click()
    page.locator("#entry-state", has_text="生效中").wait_for()
    assert page.locator("#entry-in-force").inner_text() == "是"
    expires = page.locator("#entry-expires").inner_text()
    assert str((date.today() + timedelta(days=182)).year) in expires, expires  # about six months on

    console.go("/grading/visits", "#visits-due")
    due = page.locator("#visits-due tr", has_text=name)
    due.wait_for()
    due.locator("button.visit-record").click()
    page.locator("#visit-record [name=needs]").fill("希望增加供货品种")
    page.locator("#visit-record button[type=submit]").click()
    assert "CUSTOMER_BLACKLISTED" in _error(console, "CUSTOMER_BLACKLISTED")
    assert page.locator("#visit-saved").count() == 0


def test_visit_plans_due_visits_in_priority_order_and_recording_one_md17_md25_md28(console: Console, unique: str):
    """MD25 (VIP and 优选 customers visited on site monthly: putting a customer on the plan its grade
    calls for makes a visit due), MD17 e (四优先: the VIP's visit is listed before the 优选 one), MD28
    (a visit is recorded with its 附件5 summary report: latest needs, opinions, suggestions). The
    overdue report is shown."""
    admin = token_for(console.base, TENANT)
    sales = _departments(console.base, admin)["销售部"]
    vip, preferred = f"拜访VIP{unique}公司", f"拜访优选{unique}公司"
    vip_id = _customer(console.base, admin, vip, sales)
    _customer(console.base, admin, preferred, sales)

    console.sign_in(TENANT)
    console.go("/grading/visits", "#visit-plan")
    page = console.page
    for name, grade in ((preferred, "优选类"), (vip, "VIP类")):
        form = page.locator("#visit-plan")
        form.locator("[name=customer-search]").fill(name)
        form.locator("button.customer-search").click()
        form.locator("select[name=customer] option", has_text=name).wait_for(state="attached")
        form.locator("select[name=customer]").select_option(label=name)
        form.locator("select[name=grade]").select_option(label=grade)
        form.locator("button[type=submit]").click()
        saved = page.locator("#visit-plan-saved")
        saved.wait_for()
        assert ("VIP类每月上门走访" if grade == "VIP类" else "优选类每月上门走访") in saved.inner_text()
        page.locator("#visits-due tr", has_text=name).wait_for()

    rows = page.locator("#visits-due tbody tr").all_inner_texts()
    at = {name: next(i for i, r in enumerate(rows) if name in r) for name in (vip, preferred)}
    assert at[vip] < at[preferred], rows
    assert "待拜访" in rows[at[vip]] and "上门" in rows[at[vip]], rows[at[vip]]
    assert page.locator("#overdue-total").inner_text().isdigit()
    console.check("grading-visits")
    console.assert_masked("grading-visits")

    page.locator("#visits-due tr", has_text=vip).locator("button.visit-record").click()
    form = page.locator("#visit-record")
    assert vip in page.locator("#visit-record-title").inner_text()
    form.locator("select[name=channel]").select_option("on_site")
    form.locator("[name=needs]").fill(f"需要骨科耗材{unique}")
    form.locator("[name=opinions]").fill("对交货周期满意")
    form.locator("[name=suggestions]").fill("希望每月对账")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#visit-saved")
    console.check("grading-visit-recorded")
    visits = graphql(console.base, "query($c: ID!) { visits(customerId: $c, first: 5) { nodes { channel planIds "
                     "report { needs opinions suggestions } } } }", admin, c=vip_id)["visits"]["nodes"]
    assert visits == [{"channel": "on_site", "planIds": ["vip_monthly"], "report": {
        "needs": f"需要骨科耗材{unique}", "opinions": "对交货周期满意", "suggestions": "希望每月对账"}}], visits
    plan = graphql(console.base, "query($c: ID!) { customerVisitPlan(customerId: $c) { schedules { lastVisitAt } } }",
                   admin, c=vip_id)["customerVisitPlan"]["schedules"]
    assert plan and plan[0]["lastVisitAt"], plan  # the plan's due date moved on
