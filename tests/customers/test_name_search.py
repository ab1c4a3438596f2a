"""Issue 27: search that does not scan a tenant. Names through the blind gram index (any one or
two Chinese characters, any Latin run of two), a phone or an identifier through the blind index
alone; customers written before the index are found after ``rebuild_match_keys``."""

from __future__ import annotations

from core.customers import service as customers
from core.customers.tables import CustomerKey
from core.db import unit_of_work
from tests.customers.conftest import ORGANISATION, PERSON
from tests.support import sign_in


def test_grams_cover_every_substring_a_search_can_look_up():
    """Every gram a search for a substring of a name looks up is indexed for that name, so the index
    never hides a match; a single Latin letter looks up nothing (the name index walk serves it)."""
    for name in ("王小明", "北京星辰汽车销售有限公司", "zhang san", "o'neil-li 李"):
        indexed = set(customers.name_grams(name))
        for start in range(len(name)):
            for end in range(start + 1, len(name) + 1):
                assert set(customers._query_grams(name[start:end])) <= indexed, (name, name[start:end])
    assert customers._query_grams("a") == [] and customers._query_grams("王") == ["王"]
    assert len(customers._query_grams("北京星辰汽车销售有限公司")) == customers._GRAMS_PER_SEARCH


async def test_name_search_finds_one_and_two_character_chinese_and_latin_substrings(acme, registry):
    """Issue 27: a surname (one character), a given name (two), a run inside a company name and a
    Latin run are all found through the gram index, and nothing that lacks them is."""
    admin = await sign_in("acme", "admin")
    await customers.create_customer(admin, registry, PERSON)  # 王小明
    await customers.create_customer(admin, registry, ORGANISATION)  # 北京星辰汽车销售有限公司
    await customers.create_customer(admin, registry, {**ORGANISATION, "org_name": "Zhangjiang Trading 有限公司",
                                                      "identifier": {"type": "credit_code",
                                                                     "number": "91310000MA1FL4UC2F"}}, force=True)

    async def search(text: str) -> list[str]:
        found, _ = await customers.list_customers(admin, customers.CustomerFilter(text=text), first=50)
        return sorted(c.display_name for c in found)

    assert await search("王") == ["王小明"]
    assert await search("小明") == ["王小明"]
    assert await search("星辰汽车") == ["北京星辰汽车销售有限公司"]
    assert await search("jiang") == ["Zhangjiang Trading 有限公司"]
    assert await search("有限公司") == ["Zhangjiang Trading 有限公司", "北京星辰汽车销售有限公司"]
    assert await search("明小") == []
    assert await search("星汽") == []


async def test_a_phone_search_goes_to_the_blind_index_alone(acme, registry):
    """Issue 27: a text that is a phone number is looked up in the blind index only: a company whose
    name holds the same digits is not a match (and the name part never scans the tenant)."""
    admin = await sign_in("acme", "admin")
    person = (await customers.create_customer(admin, registry, PERSON)).customer  # +86 138 1234 5678
    await customers.create_customer(admin, registry, {**ORGANISATION, "org_name": "13812345678便利店"}, force=True)
    found, _ = await customers.list_customers(admin, customers.CustomerFilter(text="13812345678"), first=10)
    assert [c.id for c in found] == [person.id]


async def test_customers_written_before_the_gram_index_are_found_after_a_rebuild(acme, registry):
    """Issue 27: rows of an older release have no grams; ``rebuild_match_keys`` (``kehu customers
    reindex``) writes them, and rewriting twice changes nothing."""
    admin = await sign_in("acme", "admin")
    await customers.create_customer(admin, registry, PERSON)
    async with unit_of_work(admin) as uow:
        await uow.delete(CustomerKey).where(CustomerKey.kind == customers.GRAM)
    assert (await customers.list_customers(admin, customers.CustomerFilter(text="小明"), first=10))[0] == []

    assert await customers.rebuild_match_keys(acme.id, batch=1) == 1
    found, _ = await customers.list_customers(admin, customers.CustomerFilter(text="小明"), first=10)
    assert [c.display_name for c in found] == ["王小明"]
    async with unit_of_work(admin, write=False) as uow:
        before = sorted(row["value"] for row in await uow.select(CustomerKey.value))
    await customers.rebuild_match_keys(acme.id)
    async with unit_of_work(admin, write=False) as uow:
        assert sorted(row["value"] for row in await uow.select(CustomerKey.value)) == before
