"""Shared by the privacy tests: a test vertical with a personal-data table, a subject with
distinctive values, and a scan of every text column of every table."""

from __future__ import annotations

import json

from piccolo.columns import UUID, Text, Varchar

from core.context import Context
from core.customers import service
from core.db import current_database, unit_of_work
from core.db.tables import TenantOwned
from core.plugins.testing import make_registry, plugin
from core.plugins.types import CustomerField, FieldKind, PersonalDataTable, PrivacyClass, VerticalInfo
from core.verticals import service as verticals
from tests.support import SYSTEM, create_test_table


class GaragePlate(TenantOwned, tablename="garage_plate"):
    customer_id = UUID()
    plate = Varchar(length=20)
    note = Text(null=True, default=None)


garage = plugin(
    kehu_vertical_info=lambda: VerticalInfo(id="garage", name_zh="测试车行", name_en="Test garage", version="1.0"),
    kehu_customer_fields=lambda: [CustomerField(name="vin", kind=FieldKind.TEXT, privacy=PrivacyClass.PERSONAL,
                                                label_en="VIN", label_zh="车架号", max_length=17)],
    kehu_personal_data=lambda: [PersonalDataTable(table="garage_plate", customer_column="customer_id",
                                                  columns=("plate", "note"), erase="delete")],
)

SUBJECT = {"kind": "person", "surname": "欧阳", "given_name": "春晓", "phones": ["139 8765 4321"],
           "emails": ["chunxiao.ouyang@example.cn"],
           "identifier": {"type": "resident_id", "number": "11010519491231002X"},
           "address": {"province": "北京市", "city": "北京市", "county": "朝阳区", "street": "光华路甲",
                       "house_number": "77号院"},
           "extensions": {"garage": {"vin": "LSVAU2180N2183294"}}}
SUBJECT_VALUES = ("欧阳", "春晓", "欧阳春晓", "+8613987654321", "13987654321", "chunxiao.ouyang@example.cn",
                  "11010519491231002X", "光华路甲", "77号院", "LSVAU2180N2183294", "京A·88S99",
                  "司马", "秋实", "+8613600001111", "qiushi@example.cn")
CONTACT = service.ContactInput(surname="司马", given_name="秋实", phones=("136 0000 1111",), email="qiushi@example.cn")


def registry():
    return make_registry(("garage", garage))


async def prepare(settings, seeded, reg):
    await create_test_table(settings, GaragePlate, "customer_id UUID NOT NULL, plate VARCHAR(20) NOT NULL, note TEXT")
    await verticals.enable_vertical(SYSTEM.for_tenant(seeded.acme.id), reg, "garage")


async def make_subject(tenant_id, reg, record=SUBJECT):
    ctx = SYSTEM.for_tenant(tenant_id)
    created = await service.create_customer(ctx, reg, record, contacts=[CONTACT])
    async with unit_of_work(ctx) as uow:
        await uow.insert(GaragePlate(customer_id=created.customer.id, plate="京A·88S99", note="欧阳春晓的车"))
    return created.customer


def _spellings(value: str) -> set[str]:
    return {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}


async def scan_everything(tenant_ids, values) -> list[str]:
    """Every text value of every row of every table (tenant by tenant on PostgreSQL, where RLS
    shows one tenant at a time); the places where any of ``values`` appears."""
    database = current_database()
    hits = []
    async with unit_of_work(Context.system("test:scan"), write=False) as uow:
        if database.is_postgres:
            tables = [r["table_name"] for r in await uow.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_type = 'BASE TABLE'")]
        else:
            tables = [r["name"] for r in await uow.fetch(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for tenant_id in [None, *tenant_ids]:
        async with unit_of_work(Context.system("test:scan", tenant_id), write=False) as uow:
            for table in tables:
                if table == "migration":
                    continue
                for row in await uow.fetch(f"SELECT * FROM {table}"):
                    if row.get("tenant_id") is not None and str(row["tenant_id"]) not in {str(t) for t in tenant_ids}:
                        continue  # SQLite has no RLS: another tenant's rows are not this scan's
                    for column, stored in row.items():
                        if stored is None:
                            continue
                        text = stored.decode(errors="ignore") if isinstance(stored, bytes) else str(stored)
                        for value in values:
                            if any(form in text for form in _spellings(value)):
                                hits.append(f"{table}.{column}: {value}")
    return sorted(set(hits))
