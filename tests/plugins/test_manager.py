"""Loading verticals through entry points, blocking them, and refusing contract breakers."""

import json
import types

import pytest
from click.testing import CliRunner

from core.plugins import PluginError, VerticalInfo, hookimpl
from core.plugins.manager import build_registry, load_verticals, new_plugin_manager
from gateway.cli import cli

FOUR = ["automotive", "medical_devices", "real_estate", "tobacco"]


def _plugin(**hooks) -> types.SimpleNamespace:
    return types.SimpleNamespace(**{name: hookimpl(fn) for name, fn in hooks.items()})


def test_the_four_verticals_load_from_entry_points():
    registry = load_verticals()
    assert list(registry.ids()) == FOUR
    assert registry.get("real_estate").name_zh == "房地产销售"
    assert all(v.name_en and v.version for v in registry.verticals)


def test_a_blocked_plugin_is_not_loaded():
    registry = load_verticals(disabled=["tobacco"])
    assert "tobacco" not in registry.ids()
    assert registry.blocked == ("tobacco",)


def test_kehu_plugins_lists_the_four_verticals():
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    assert [v["id"] for v in json.loads(result.output)["loaded"]] == FOUR


def test_kehu_plugins_respects_kehu_disabled_plugins():
    result = CliRunner().invoke(cli, ["plugins", "--json"], env={"KEHU_DISABLED_PLUGINS": "automotive,tobacco"})
    listed = json.loads(result.output)
    assert [v["id"] for v in listed["loaded"]] == ["medical_devices", "real_estate"]
    assert listed["blocked"] == ["automotive", "tobacco"]
    table = CliRunner().invoke(cli, ["plugins"], env={"KEHU_DISABLED_PLUGINS": "automotive"})
    assert "automotive" in table.output.splitlines()[-1] and "blocked" in table.output


def test_a_plugin_whose_id_differs_from_its_name_is_refused():
    manager = new_plugin_manager()
    manager.register(_plugin(kehu_vertical_info=lambda: VerticalInfo("other", "其他", "Other", "1.0")), name="mine")
    with pytest.raises(PluginError, match="differs from its entry-point name"):
        build_registry(manager)


def test_a_plugin_without_vertical_info_is_refused():
    manager = new_plugin_manager()
    manager.register(types.SimpleNamespace(), name="silent")
    with pytest.raises(PluginError, match="kehu_vertical_info is required"):
        build_registry(manager)


def test_a_plugin_implementing_an_unknown_hook_is_refused():
    manager = new_plugin_manager()
    manager.register(_plugin(kehu_vertical_info=lambda: VerticalInfo("typo", "错字", "Typo", "1.0"),
                             kehu_vertical_infos=lambda: None), name="typo")
    with pytest.raises(Exception, match="unknown hook"):
        build_registry(manager)


@pytest.mark.parametrize("kwargs, problem", [
    (dict(id="Bad-Id", name_zh="中", name_en="En", version="1.0"), "id must be"),
    (dict(id="ok", name_zh=" ", name_en="En", version="1.0"), "names in zh-CN and en"),
    (dict(id="ok", name_zh="中", name_en="En", version="latest"), "not a version number"),
])
def test_vertical_info_is_validated(kwargs, problem):
    with pytest.raises(PluginError, match=problem):
        VerticalInfo(**kwargs)


def test_a_vertical_adds_permissions_that_roles_can_grant():
    from core.identity.permissions import catalog, install_catalog
    from core.plugins import Permission

    manager = new_plugin_manager()
    manager.register(_plugin(kehu_vertical_info=lambda: VerticalInfo("demo_v", "演示", "Demo", "1.0"),
                             kehu_permissions=lambda: [Permission("demo_v.archive.check", "check", "审核")]),
                     name="demo_v")
    registry = build_registry(manager)
    assert [p.name for p in registry.permissions] == ["demo_v.archive.check"]
    try:
        install_catalog(registry.permissions)
        assert "demo_v.archive.check" in catalog() and "customer.read" in catalog()
    finally:
        install_catalog(())


def test_a_vertical_permission_must_carry_its_id():
    from core.plugins import Permission

    manager = new_plugin_manager()
    manager.register(_plugin(kehu_vertical_info=lambda: VerticalInfo("demo_v", "演示", "Demo", "1.0"),
                             kehu_permissions=lambda: [Permission("customer.delete", "x", "x")]), name="demo_v")
    with pytest.raises(PluginError, match="must start with 'demo_v'"):
        build_registry(manager)
