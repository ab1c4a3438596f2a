"""Realistic customers in bulk, for the scale benchmarks and the query-plan test (issue 27).

Records are made from seeded random choices (Chinese names, valid resident IDs and unified social
credit codes from python-stdnum's check digits, mobile numbers, addresses), validated by the same
``build_record`` an API write uses, and written through the import's own path (``build_rows`` then
``write_customers``): sealed personal fields, blind-index match keys and name grams, field history
version 1 and one audit entry each, exactly as an import writes them. Outbox events are left out
(a million of them would only keep the relay busy). Each organisation gets one or two contacts
(validated and sealed by the same ``_contact_row`` a created customer's contacts go through), and
each person a consent ledger entry (an SMS-marketing grant, a third of them later withdrawn), as
the consent service records them.

    python -m bench.scale_data --tenants 1000 --customers 1000000 --big 200000

fills the database named by the usual settings (``KEHU_DATABASE_URL``, migrated first).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from stdnum.cn import ric, uscc

from core.context import Context
from core.customers import importing
from core.customers import records as r
from core.customers import service
from core.db import unit_of_work

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志宏子涵浩然欣怡梓轩雨萱晨阳佳琪宇航思远嘉怡博文一诺"
CITIES = [("北京市", "北京市", "朝阳区"), ("上海市", "上海市", "浦东新区"), ("广东省", "广州市", "天河区"),
          ("广东省", "深圳市", "南山区"), ("浙江省", "杭州市", "西湖区"), ("四川省", "成都市", "武侯区"),
          ("江苏省", "南京市", "鼓楼区"), ("湖北省", "武汉市", "洪山区")]
AREA_CODES = ["110101", "110102", "110105", "110108", "310101", "310104", "440103", "440104", "330102", "510104"]
TRADES = ["汽车销售", "商贸", "置业", "医疗器械", "烟草零售", "科技", "贸易", "物流"]
MOBILE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "158", "177", "186", "189"]
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def resident_id(rng: random.Random) -> str:
    while True:  # a region code must have existed in the birth year (stdnum checks it)
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
        body = f"{rng.choice(AREA_CODES)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body)
        if ric.is_valid(number):
            return number


def credit_code(rng: random.Random) -> str:
    body = "91" + rng.choice(AREA_CODES) + "".join(rng.choice(USCC_CHARS) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def given_name(rng: random.Random) -> str:
    return "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def customer_fields(rng: random.Random) -> dict[str, Any]:
    """One customer as an API caller would send it: a person four times in five, else a company."""
    province, city, county = rng.choice(CITIES)
    address = {"province": province, "city": city, "county": county, "street": f"{rng.choice(GIVEN)}{rng.choice('东西南北中')}路",
               "house_number": f"{rng.randrange(1, 999)}号"}
    status = rng.choice(("potential", "active", "active", "dormant"))
    if rng.random() < 0.8:
        return {"kind": "person", "status": status, "surname": rng.choice(SURNAMES), "given_name": given_name(rng),
                "phones": [mobile(rng)], "identifier": {"type": "resident_id", "number": resident_id(rng)},
                "address": address}
    return {"kind": "organisation", "status": status,
            "org_name": f"{city[:-1]}{given_name(rng)}{rng.choice(TRADES)}有限公司",
            "legal_representative": rng.choice(SURNAMES) + given_name(rng),
            "identifier": {"type": "credit_code", "number": credit_code(rng)}, "phones": [mobile(rng)],
            "address": address}


CONTACT_COLUMNS = ("id", "tenant_id", "created_at", "customer_id", "surname", "given_name", "position", "phones",
                   "email", "is_primary", "sealed")
CONSENT_COLUMNS = ("id", "tenant_id", "created_at", "customer_id", "seq", "purpose", "action", "notice_version",
                   "channel", "recorded_at", "recorded_by", "evidence")


def contact_rows(tenant_id: UUID, customer_id: UUID, rng: random.Random, at: Any) -> list[tuple[Any, ...]]:
    """An organisation's contacts: the first primary, sealed as the customer service seals them."""
    rows = []
    for index in range(rng.choice((1, 2))):
        contact = service.ContactInput(surname=rng.choice(SURNAMES), given_name=given_name(rng),
                                       position=rng.choice(("总经理", "采购经理", "财务")), phones=[mobile(rng)],
                                       is_primary=index == 0)
        row = service._contact_row(tenant_id, customer_id, contact, f"contacts.{index}.")
        rows.append((uuid4(), tenant_id, at, customer_id, row.surname, row.given_name, row.position, row.phones,
                     row.email, row.is_primary, row.sealed))
    return rows


def consent_rows(tenant_id: UUID, customer_id: UUID, rng: random.Random, at: Any) -> list[tuple[Any, ...]]:
    """A person's consent ledger: an SMS-marketing grant on paper, a third of them withdrawn later."""
    rows = [(uuid4(), tenant_id, at, customer_id, 1, "marketing_sms", "grant", "2026-v1", "paper", at, "bench:data",
             "signed form")]
    if rng.random() < 1 / 3:
        later = at + timedelta(days=rng.randrange(1, 90))
        rows.append((uuid4(), tenant_id, at, customer_id, 2, "marketing_sms", "withdraw", None, "phone", later,
                     "bench:data", "asked by phone"))
    return rows


def records(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for _ in range(count):
        yield r.build_record(customer_fields(rng), schema={}, enabled=frozenset())


async def fill_tenant(tenant_id: UUID, count: int, *, seed: int = 0, batch: int = 1000,
                      progress: Callable[[int], None] | None = None) -> int:
    """Write ``count`` generated customers into the tenant, ``batch`` per transaction."""
    made = records(count, seed)
    rng = random.Random(seed + 1)  # contacts and consents: their own stream, the records stay as they were
    written = 0
    while written < count:
        good = [importing._Good(line=written + i + 1, record=record)
                for i, record in zip(range(min(batch, count - written)), made, strict=False)]
        prepared = importing.build_rows(good, tenant_id=tenant_id, actor="bench:data", reason="bench data",
                                        review_months=12, schema={})
        prepared.rows["outbox_event"] = []
        at = service.now()
        contacts, consents = [], []
        for item in good:
            if item.record["kind"] == "organisation":
                contacts += contact_rows(tenant_id, item.id, rng, at)
            else:
                consents += consent_rows(tenant_id, item.id, rng, at)
        async with unit_of_work(Context.system("bench:data", tenant_id)) as uow:
            await importing.write_customers(uow, prepared)
            await uow.insert_many("customer_contact", CONTACT_COLUMNS, contacts)
            await uow.insert_many("consent_record", CONSENT_COLUMNS, consents)
        written += len(good)
        if progress:
            progress(len(good))
    return written


def spread(total: int, tenants: int, big: int) -> list[int]:
    """Customers per tenant: the first holds ``big``, the rest share what is left evenly."""
    if tenants == 1:
        return [total]
    rest, extra = divmod(total - big, tenants - 1)
    return [big] + [rest + (1 if i < extra else 0) for i in range(tenants - 1)]


async def _main(args: argparse.Namespace) -> int:
    from core.plugins.manager import load_verticals
    from core.settings import load_settings
    from core.tenancy.service import TenantAdmin, create_tenant
    from bench.support import start_database

    settings = load_settings(password_hashing="fast")
    database = await start_database(settings, load_verticals(()))
    started, done = time.monotonic(), 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        rate = done / max(time.monotonic() - started, 1e-9)
        width = 30
        filled = int(width * done / args.customers)
        print(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{args.customers:,} customers, {rate:,.0f}/s",
              end="", file=sys.stderr, flush=True)

    try:
        for index, count in enumerate(spread(args.customers, args.tenants, args.big)):
            tenant = await create_tenant(Context.system(), slug=f"scale{index:04d}", name=f"Scale {index}",
                                         departments=("销售部",), admin=TenantAdmin("admin", "scale-password-2026!"))
            await fill_tenant(tenant.id, count, seed=index, progress=progress)
        print(file=sys.stderr)
    finally:
        await database.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=200_000, help="customers of the first tenant")
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
