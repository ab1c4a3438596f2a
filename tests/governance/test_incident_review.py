"""The post-incident review on the privacy incident register (issue 24, seed-004 §4.5.2, CSM-29):
an incident under investigation closes only with its review (summary, effectiveness evaluation,
improvement suggestions); without it closing is refused and the incident stays as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import AsyncTestClient

from gateway.app import create_app
from tests.gateway.test_identity_api import _snapshot, gql, login, new_user

CREATE = ('mutation($i: IncidentInput!) { incidentCreate(input: $i) { incident { id version status } '
          'errors { code field } } }')
CLOSE = ('mutation($id: ID!, $v: Int!, $r: IncidentReviewInput) { incidentClose(id: $id, version: $v, review: $r) '
         '{ incident { id version status closedAt review { summary effectiveness improvements } } '
         'errors { code field } } }')
LIST = "{ incidents { nodes { id status review { summary } } } }"
REVIEW = {"summary": "导出接口权限配置错误导致泄露", "effectiveness": "2 小时内止损，处置有效",
          "improvements": "上线前增加权限评审"}


@pytest.fixture
def api_settings(settings):
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "rate_limit_per_minute": 10_000,
                                       "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def _data(client, doc, token, **variables) -> dict:
    body = (await gql(client, doc, token, **variables)).json()
    assert not body.get("errors"), body
    return next(iter(body["data"].values()))


async def _incident(client, token) -> dict:
    discovered = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    made = await _data(client, CREATE, token, i={"summary": "客户资料外泄", "discoveredAt": discovered})
    assert made["errors"] == [], made
    return made["incident"]


async def test_CSM_29_an_incident_cannot_close_without_a_review(client, api_settings):
    """CSM-29: an incident under investigation: closing it without the post-incident review, or with
    any of its three parts missing or blank, is refused with INCIDENT_REVIEW_REQUIRED, writing
    nothing (the incident stays investigating); with all three it closes and keeps the review."""
    token = (await login(client))["accessToken"]
    incident = await _incident(client, token)
    assert incident["status"] == "investigating"
    before = await _snapshot(api_settings)
    attempts = [None, {}, {k: v for k, v in REVIEW.items() if k != "summary"},
                {**REVIEW, "effectiveness": "  "}, {k: v for k, v in REVIEW.items() if k != "improvements"}]
    for review in attempts:
        result = await _data(client, CLOSE, token, id=incident["id"], v=incident["version"], r=review)
        assert result["incident"] is None and [e["code"] for e in result["errors"]] == ["INCIDENT_REVIEW_REQUIRED"], \
            (review, result)
    assert await _snapshot(api_settings) == before
    listed = (await _data(client, LIST, token))["nodes"]
    assert {"id": incident["id"], "status": "investigating", "review": None} in listed
    closed = await _data(client, CLOSE, token, id=incident["id"], v=incident["version"], r=REVIEW)
    assert closed["errors"] == [], closed
    assert closed["incident"]["status"] == "closed" and closed["incident"]["closedAt"]
    assert closed["incident"]["review"] == REVIEW
    again = await _data(client, CLOSE, token, id=incident["id"], v=closed["incident"]["version"], r=REVIEW)
    assert [e["code"] for e in again["errors"]] == ["INCIDENT_CLOSED"]


async def test_closing_an_incident_needs_the_incident_permission(client):
    """Closing is refused to a user without privacy.incident.manage."""
    token = (await login(client))["accessToken"]
    incident = await _incident(client, token)
    await new_user(client, token, "noincidents")
    other = (await login(client, username="noincidents"))["accessToken"]
    result = await _data(client, CLOSE, other, id=incident["id"], v=incident["version"], r=REVIEW)
    assert [e["code"] for e in result["errors"]] == ["PERMISSION_DENIED"]
