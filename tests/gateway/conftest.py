import pytest
from litestar.testing import TestClient

from gateway.app import create_app


@pytest.fixture
def app(sqlite_settings):
    return create_app(sqlite_settings)


@pytest.fixture
def client(app):
    with TestClient(app) as test_client:
        yield test_client


def graphql(client, query: str, **headers):
    response = client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()
