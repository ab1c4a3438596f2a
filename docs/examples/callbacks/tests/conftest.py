import pytest

import kehu_callbacks


@pytest.fixture
def kehu_vertical():
    """The vertical kehu's test harness loads (fixtures kehu_tenant, kehu_client, …)."""
    return ("callbacks", kehu_callbacks)
