"""Admission of medical-device customers through GraphQL (seed-000 §3: MD1, MD2, MD6, MD15, MD16,
MD18, MD19, MD20, MD21 d; issue 20 acceptance 5)."""

from __future__ import annotations

import json

import pytest

import plugins.medical_devices as medical_devices
from core.plugins.testing import ContractSuite
from tests.medical_devices.api import (
    nodes,
    ADMISSIONS,
    CUSTOMER,
    DOCS,
    PARAMS,
    admit,
    audit,
    customer,
    department,
    documents,
    ok,
    refused,
)


class TestContract(ContractSuite):
    plugin = medical_devices
    name = "medical_devices"


@pytest.mark.parametrize("customer_type", ["retail", "internal_related"])
async def test_md1_retail_and_internal_related_customers_are_taken_in_without_admission_criteria(
        kehu_client, clock, customer_type):
    """MD1: admission does not apply to retail and internal related-party customers; MD20: they still
    go into the department's database (no documents, contract or verifier's note needed)."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    body = await kehu_client.execute(
        "mutation($c: ID!, $d: ID!, $t: String!) { medicalDevicesAdmit(customerId: $c, departmentId: $d, "
        "customerType: $t) { admission { customerType grade readmission } errors { code } } }",
        c=cust, d=dep, t=customer_type)
    assert body["data"]["medicalDevicesAdmit"] == {
        "admission": {"customerType": customer_type, "grade": None, "readmission": False}, "errors": []}


@pytest.mark.parametrize("customer_type,kinds", sorted(DOCS.items()))
async def test_md2_each_type_needs_its_documents_and_is_refused_naming_the_missing_one(
        kehu_client, clock, customer_type, kinds):
    """MD2 a, e: an enterprise needs a valid business licence and tax registration, a distributor or
    direct customer also the device operation licence or filing record, a medical institution its
    practice licence. Each missing document is named; the refusal writes nothing."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    for i, missing in enumerate(kinds):
        await documents(kehu_client, cust, kinds[:i])
        error = (await admit(kehu_client, cust, dep, customer_type))["data"]["medicalDevicesAdmit"]["errors"][0]
        assert error["code"] == "MEDICAL_DEVICES_QUALIFICATION_MISSING" and missing in error["message"], error
        assert all(k not in error["message"] for k in kinds[:i])
        assert (await nodes(kehu_client, ADMISSIONS, "medicalDevicesAdmissions", d=dep)) == []
    await documents(kehu_client, cust, kinds)
    admitted = (await admit(kehu_client, cust, dep, customer_type))["data"]["medicalDevicesAdmit"]
    assert admitted["errors"] == [] and admitted["admission"]["grade"] == "qualified"  # MD6


async def test_md2_special_products_need_the_special_qualification(kehu_client, clock):
    """MD2 e: a customer dealing in products that need a special national qualification holds it."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    await documents(kehu_client, cust, DOCS["medical_institution"])
    body = await admit(kehu_client, cust, dep, special=True)
    error = body["data"]["medicalDevicesAdmit"]["errors"][0]
    assert error["code"] == "MEDICAL_DEVICES_QUALIFICATION_MISSING" and "special_qualification" in error["message"]
    await documents(kehu_client, cust, ["special_qualification"])
    assert (await admit(kehu_client, cust, dep, special=True))["data"]["medicalDevicesAdmit"]["errors"] == []


async def test_md2a_tax_registration_is_a_tenant_parameter(kehu_client, clock):
    """MD2 a asks for a tax registration; a tenant that accepts the unified business licence
    (三证合一) turns ``require_tax_registration`` off and admits without it."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    await documents(kehu_client, cust, ["business_licence"])
    error = (await admit(kehu_client, cust, dep, "enterprise"))["data"]["medicalDevicesAdmit"]["errors"][0]
    assert error["code"] == "MEDICAL_DEVICES_QUALIFICATION_MISSING" and "tax_registration" in error["message"]
    await ok(kehu_client, PARAMS, "verticalParametersUpdate", k="require_tax_registration", v=False)
    assert (await admit(kehu_client, cust, dep, "enterprise"))["data"]["medicalDevicesAdmit"]["errors"] == []


@pytest.mark.parametrize("change,code,field", [
    ({"contract": None}, "MEDICAL_DEVICES_CONTRACT_REQUIRED", "contractNumber"),  # MD2 c
    ({"contract": "  "}, "MEDICAL_DEVICES_CONTRACT_REQUIRED", "contractNumber"),  # MD2 c
    ({"illegal": True}, "MEDICAL_DEVICES_ILLEGAL_RECORD", "illegalRecord"),  # MD2 d
    ({"note": None}, "MEDICAL_DEVICES_INPUT_INVALID", "verificationNote"),  # MD2 b, f; MD21 d
    ({"t": "hospital"}, "MEDICAL_DEVICES_CUSTOMER_TYPE_INVALID", "customerType"),
])
async def test_md2_admission_criteria_refuse_and_write_nothing(kehu_client, clock, change, code, field):
    """MD2 c (signed purchase-sale contract), MD2 d (no record of illegal activity), MD2 b and f (the
    verifier's judgement of reputation and brand cooperation is recorded, MD21 d)."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    await documents(kehu_client, cust, DOCS["medical_institution"])
    body = await admit(kehu_client, cust, dep, **change)
    errors = body["data"]["medicalDevicesAdmit"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [(code, field)]
    assert await nodes(kehu_client, ADMISSIONS, "medicalDevicesAdmissions", d=dep) == []
    assert await audit(kehu_client, "medical_devices_admission") == []


async def test_md21d_the_admission_records_who_verified_it_audited_and_announced(kehu_client, clock):
    """MD21 d: the designated person verifies the customer; the admission names them, is audited
    and sent as the outbox event ``medical_devices.customer_admitted``; MD20: it is in the
    department's database (listed)."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    await documents(kehu_client, cust, DOCS["medical_institution"])
    admitted = (await admit(kehu_client, cust, dep))["data"]["medicalDevicesAdmit"]["admission"]
    assert admitted["verifiedBy"] and admitted["customerId"] == cust and admitted["departmentId"] == dep
    listed = await nodes(kehu_client, ADMISSIONS, "medicalDevicesAdmissions", d=dep)
    assert [a["id"] for a in listed] == [admitted["id"]]
    entries = await audit(kehu_client, "medical_devices_admission")
    assert [(e["action"], e["targetId"]) for e in entries] == [("medical_devices.customer_admitted", admitted["id"])]
    assert json.loads(entries[0]["diff"])["verified_by"] == {"to": admitted["verifiedBy"]}
    again = (await admit(kehu_client, cust, dep))["data"]["medicalDevicesAdmit"]["errors"]
    assert [e["code"] for e in again] == ["MEDICAL_DEVICES_ALREADY_ADMITTED"]


async def test_acceptance5_an_expired_device_operation_licence_blocks_admission(kehu_client, clock):
    """Issue 20 acceptance 5 (MD2 e): an expired medical-device operation licence refuses the
    admission naming the document and its expiry; valid through its expiry day (tenant's time
    zone); a renewal lets the customer in."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    await documents(kehu_client, cust, ["business_licence", "tax_registration"])
    await documents(kehu_client, cust, ["device_operation_licence"], expires="2026-03-01")
    clock.set(2026, 3, 1, 23, 59)  # the last day it is valid
    profile = await ok(kehu_client, CUSTOMER, "medicalDevicesCustomer", c=cust)
    assert {q["kind"]: q["expired"] for q in profile["qualifications"]}["device_operation_licence"] is False
    clock.set(2026, 3, 2, 0, 0)
    error = (await admit(kehu_client, cust, dep, "distributor"))["data"]["medicalDevicesAdmit"]["errors"][0]
    assert error["code"] == "MEDICAL_DEVICES_QUALIFICATION_EXPIRED"
    assert "device_operation_licence" in error["message"] and "2026-03-01" in error["message"]
    assert await nodes(kehu_client, ADMISSIONS, "medicalDevicesAdmissions", d=dep) == []
    await documents(kehu_client, cust, ["device_operation_licence"], expires="2031-03-01")
    assert (await admit(kehu_client, cust, dep, "distributor"))["data"]["medicalDevicesAdmit"]["errors"] == []


async def test_md19_a_grade_holds_only_in_its_department(kehu_client, clock):
    """MD19: admitted as VIP in department X, the customer is admitted and graded separately in
    department Y (the lowest grade unless Y grades it otherwise); X's grade stays."""
    x, y = await department(kehu_client), await department(kehu_client)
    cust = await customer(kehu_client)
    await documents(kehu_client, cust, DOCS["medical_institution"])
    in_x = (await admit(kehu_client, cust, x, g="vip"))["data"]["medicalDevicesAdmit"]
    assert in_x["errors"] == [] and in_x["admission"]["grade"] == "vip"
    in_y = (await admit(kehu_client, cust, y))["data"]["medicalDevicesAdmit"]
    assert in_y["admission"]["grade"] == "qualified"
    profile = await ok(kehu_client, CUSTOMER, "medicalDevicesCustomer", c=cust)
    assert sorted((a["departmentId"], a["grade"]) for a in profile["admissions"]) == sorted(
        [(x, "vip"), (y, "qualified")])


async def test_md4d_an_admission_above_the_vip_cap_is_refused(kehu_client, clock):
    """MD4 d through admission: the grading engine's hard cap (15% of the department's customers)
    refuses a VIP admission that would pass it (1 of 6 = 16.7%), writing nothing; with a 7th
    customer in the department 1 of 7 = 14.3% is within the cap and the admission passes."""
    dep = await department(kehu_client)
    customers = [await customer(kehu_client, department_id=dep) for _ in range(6)]
    await documents(kehu_client, customers[0], DOCS["medical_institution"])
    body = (await admit(kehu_client, customers[0], dep, g="vip"))["data"]["medicalDevicesAdmit"]
    assert [e["code"] for e in body["errors"]] == ["GRADE_CAP_EXCEEDED"] and customers[0] in body["errors"][0]["message"]
    assert await nodes(kehu_client, ADMISSIONS, "medicalDevicesAdmissions", d=dep) == []
    await customer(kehu_client, department_id=dep)
    body = (await admit(kehu_client, customers[0], dep, g="vip"))["data"]["medicalDevicesAdmit"]
    assert body["errors"] == [] and body["admission"]["grade"] == "vip"


async def test_md20_admission_names_an_existing_department_and_customer(kehu_client, clock):
    """MD20: a customer goes into one of the tenant's departments; an unknown department or customer
    is refused, writing nothing."""
    dep, cust = await department(kehu_client), await customer(kehu_client)
    unknown = "00000000-0000-0000-0000-000000000009"
    errors = (await admit(kehu_client, cust, unknown, "retail"))["data"]["medicalDevicesAdmit"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("DEPARTMENT_UNKNOWN", "departmentId")]
    errors = (await admit(kehu_client, unknown, dep, "retail"))["data"]["medicalDevicesAdmit"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("CUSTOMER_NOT_FOUND", "customerId")]
    assert await nodes(kehu_client, ADMISSIONS, "medicalDevicesAdmissions") == []


async def test_a_tenant_without_the_vertical_gets_vertical_not_enabled(kehu_client, clock):
    """Every medicalDevices… field answers VERTICAL_NOT_ENABLED once the tenant disables the vertical."""
    body = await kehu_client.execute('mutation { verticalDisable(verticalId: "medical_devices") { errors { code } } }')
    assert body["data"]["verticalDisable"]["errors"] == []
    for doc in (ADMISSIONS, '{ medicalDevicesEvents { nodes { id } } }',
                'mutation { medicalDevicesEventPlan(kind: "forum", title: "t", plannedOn: "2026-04-01", plan: "p") '
                '{ errors { code } } }'):
        answer = await kehu_client.execute(doc)
        assert answer["data"] is None and answer["errors"][0]["extensions"]["code"] == "VERTICAL_NOT_ENABLED", answer
