"""The real-estate vertical's management tables (migration versions 10–19; the queue owns 1–9).

- ``real_estate_follow_up_plan``: one row per graded or followed-up customer (RE32, RE36): its A/B/C
  grade, the last follow-up and when the next one is due (the grade's interval in days);
- ``real_estate_campaign`` and ``real_estate_campaign_delivery``: holiday and advertisement-day SMS
  campaigns (RE33, RE34) and one row per customer the send reached or skipped, with the outcome;
- ``real_estate_violation``: a consultant's violation recorded by the manager (RE2, RE3, RE10,
  RE11 B, RE32), with the penalty as text (never an automatic deduction).

The ownership of customers and the follow-ups themselves live in core's attribution ledger.
"""

from __future__ import annotations

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.plugins import TenantTable, tenant_table_migration


class FollowUpPlan(TenantTable, tablename="real_estate_follow_up_plan"):
    customer_id = UUID()
    consultant_id = UUID(null=True, default=None)  # who followed up or graded last (the owner then)
    grade = Varchar(length=1, null=True, default=None)  # A | B | C; null: not graded (C's interval)
    last_follow_up_at = Timestamptz(null=True, default=None)
    next_due_at = Timestamptz()
    updated_at = Timestamptz()


class Campaign(TenantTable, tablename="real_estate_campaign"):
    kind = Varchar(length=16)  # holiday | ad_day
    message = Text()
    send_on = Varchar(length=10)  # YYYY-MM-DD: the holiday or the advertisement's release day
    state = Varchar(length=16)  # draft | sending | sent
    created_by = Varchar(length=100)
    job_id = UUID(null=True, default=None)
    send_requested_by = Varchar(length=100, null=True, default=None)
    send_requested_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    sent_count = Integer(default=0)
    skipped_count = Integer(default=0)
    version = Integer(default=1)


class CampaignDelivery(TenantTable, tablename="real_estate_campaign_delivery"):
    campaign_id = UUID()
    customer_id = UUID()
    outcome = Varchar(length=16)  # sent | excluded | no_consent | no_phone | not_found | failed
    at = Timestamptz()


class Violation(TenantTable, tablename="real_estate_violation"):
    consultant_id = UUID()
    rule = Varchar(length=16)
    note = Text()
    penalty = Varchar(length=200, null=True, default=None)
    recorded_by = Varchar(length=100)
    recorded_at = Timestamptz()


TABLES = (FollowUpPlan, Campaign, CampaignDelivery, Violation)

MIGRATIONS = (
    tenant_table_migration(10, "follow-up plans", "real_estate_follow_up_plan", [
        "customer_id UUID NOT NULL",
        "consultant_id UUID",
        "grade VARCHAR(1)",
        "last_follow_up_at TIMESTAMPTZ",
        "next_due_at TIMESTAMPTZ NOT NULL",
        "updated_at TIMESTAMPTZ NOT NULL",
    ], unique=(("customer_id",),), indexes=(("next_due_at",), ("consultant_id", "next_due_at"))),
    tenant_table_migration(11, "SMS campaigns", "real_estate_campaign", [
        "kind VARCHAR(16) NOT NULL",
        "message TEXT NOT NULL",
        "send_on VARCHAR(10) NOT NULL",
        "state VARCHAR(16) NOT NULL",
        "created_by VARCHAR(100) NOT NULL",
        "job_id UUID",
        "send_requested_by VARCHAR(100)",
        "send_requested_at TIMESTAMPTZ",
        "sent_at TIMESTAMPTZ",
        "sent_count INTEGER NOT NULL DEFAULT 0",
        "skipped_count INTEGER NOT NULL DEFAULT 0",
        "version INTEGER NOT NULL DEFAULT 1",
    ], indexes=(("send_on",),)),
    tenant_table_migration(12, "SMS campaign deliveries", "real_estate_campaign_delivery", [
        "campaign_id UUID NOT NULL",
        "customer_id UUID NOT NULL",
        "outcome VARCHAR(16) NOT NULL",
        "at TIMESTAMPTZ NOT NULL",
    ], unique=(("campaign_id", "customer_id"),), indexes=(("customer_id",),),
        references=(("campaign_id", "real_estate_campaign"),)),
    tenant_table_migration(13, "consultants' violations", "real_estate_violation", [
        "consultant_id UUID NOT NULL",
        "rule VARCHAR(16) NOT NULL",
        "note TEXT NOT NULL",
        "penalty VARCHAR(200)",
        "recorded_by VARCHAR(100) NOT NULL",
        "recorded_at TIMESTAMPTZ NOT NULL",
    ], indexes=(("consultant_id", "recorded_at"), ("recorded_at",))),
)
