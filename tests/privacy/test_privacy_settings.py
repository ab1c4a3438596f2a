"""The tenant's privacy settings: one place to read and change them, over GraphQL too, and the
services that use them see the change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from core.customers import service as customers
from core.errors import KehuError
from core.plugins.testing import make_registry
from core.privacy import assessments, retention, subject_requests
from gateway.app import create_app
from tests.gateway.test_identity_api import gql, login
from tests.support import SYSTEM, sign_in


def test_the_defaults_are_the_ones_the_services_use():
    assert assessments.SETTINGS["privacy.request_days"][0] == subject_requests.DEFAULT_DAYS
    assert assessments.SETTINGS["privacy.retention_years"][0] == retention.DEFAULT_YEARS
    assert subject_requests.DAYS_KEY in assessments.SETTINGS and retention.YEARS_KEY in assessments.SETTINGS


async def test_a_changed_request_window_sets_the_due_date_of_later_requests(seeded):
    admin = await sign_in("acme", "admin")
    created = await customers.create_customer(SYSTEM.for_tenant(seeded.acme.id), make_registry(),
                                              {"kind": "person", "surname": "李", "given_name": "晓燕"})
    first = await subject_requests.create_request(admin, created.customer.id, "access")
    assert first.due_at - first.received_at == timedelta(days=15)
    await assessments.update_privacy_settings(admin, {"privacy.request_days": 10})
    second = await subject_requests.create_request(admin, created.customer.id, "access")
    assert second.due_at - second.received_at == timedelta(days=10)
    with pytest.raises(KehuError) as refused:
        await assessments.update_privacy_settings(admin, {"privacy.retention_years": 0})
    assert (refused.value.code, refused.value.field) == ("SETTING_INVALID", "privacy.retention_years")


async def test_privacy_settings_over_graphql(settings, seeded):
    app = create_app(settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000}), registry=make_registry())
    async with AsyncTestClient(app) as client:
        token = (await login(client))["accessToken"]
        read = (await gql(client, "{ privacySettings { incidentReportHours loanDays requestDays retentionYears } }",
                          token)).json()["data"]["privacySettings"]
        assert read == {"incidentReportHours": 72, "loanDays": 7, "requestDays": 15, "retentionYears": 5}
        update = """mutation($input: PrivacySettingsInput!) { privacySettingsUpdate(input: $input) {
                      settings { requestDays retentionYears } errors { code field } } }"""
        changed = (await gql(client, update, token, input={"requestDays": 20, "retentionYears": 7})).json()
        assert changed["data"]["privacySettingsUpdate"] == {"settings": {"requestDays": 20, "retentionYears": 7},
                                                            "errors": []}
        bad = (await gql(client, update, token, input={"loanDays": 0})).json()["data"]["privacySettingsUpdate"]
        assert bad["settings"] is None and bad["errors"][0]["code"] == "SETTING_INVALID"
