"""Complaints, their clocks, their event register and their numbering sequences. JSON columns
hold plain JSON text; the complainant's personal fields (a free-text person) are sealed
(``core.privacy.crypto``, column ``complaint.complainant``)."""

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class Complaint(TenantOwned, tablename="complaint"):
    vertical = Varchar(length=40)
    flow = Varchar(length=40)
    number = Varchar(length=60)
    source = Varchar(length=16)  # external | internal
    channel = Varchar(length=16)  # phone | email | visit | letter | online
    category = Varchar(length=40)
    severity = Varchar(length=40)
    branch = Varchar(length=40, null=True, default=None)
    state = Varchar(length=40)
    resume_state = Varchar(length=40, null=True, default=None)  # where a paused case resumes
    subject = Text()
    customer_id = UUID(null=True, default=None)  # the complainant when a customer of the tenant
    complainant = Text(null=True, default=None)  # sealed JSON {name, phone, address} of a free-text person
    first_responder = Varchar(length=100)  # the actor who took the complaint (首问责任人)
    assignee_id = UUID(null=True, default=None)
    department_id = UUID(null=True, default=None)
    archive_id = UUID(null=True, default=None)
    previous_id = UUID(null=True, default=None)  # the case this one follows up
    escalated_to = Varchar(length=40, null=True, default=None)  # the last role escalated to
    fields = Text(default="{}")  # the fields transitions recorded (not personal)
    attachments = Text(default="[]")  # references only
    opened_at = Timestamptz()
    closed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class ComplaintClock(TenantOwned, tablename="complaint_clock"):
    """One run of a flow's timer (``kind`` timer) or a written-report obligation (``kind`` report).
    ``next_due_at`` is the next limit still to pass (the target, then the hard limit); null when
    none is pending or the clock is paused or stopped. The tick reads it through its index."""

    complaint_id = UUID()
    timer = Varchar(length=60)
    kind = Varchar(length=16)  # timer | report
    role = Varchar(length=40, null=True, default=None)  # a report's role
    unit = Varchar(length=16)  # the limit's unit (how a pause moves the due times)
    status = Varchar(length=16)  # running | paused | met | stopped
    started_at = Timestamptz()
    due_at = Timestamptz()
    hard_due_at = Timestamptz(null=True, default=None)
    next_due_at = Timestamptz(null=True, default=None)
    breached_at = Timestamptz(null=True, default=None)  # the target was passed (the tick saw it)
    hard_breached_at = Timestamptz(null=True, default=None)
    paused_at = Timestamptz(null=True, default=None)
    stopped_at = Timestamptz(null=True, default=None)
    # a working-day due time that counted days of a year whose official schedule is not known yet
    provisional = Boolean(default=False)


class ComplaintEvent(TenantOwned, tablename="complaint_event"):
    """The case's timeline: intake, transitions, assignment, pauses, clocks, breaches, reactions."""

    complaint_id = UUID()
    at = Timestamptz()
    actor = Varchar(length=100)
    kind = Varchar(length=40)
    action = Varchar(length=40, null=True, default=None)
    from_state = Varchar(length=40, null=True, default=None)
    to_state = Varchar(length=40, null=True, default=None)
    timer = Varchar(length=60, null=True, default=None)
    detail = Text(default="{}")


class ComplaintSequence(TenantOwned, tablename="complaint_sequence"):
    """The last number given in one numbering scope (vertical.flow) and period (``2609``)."""

    scope = Varchar(length=100)
    period = Varchar(length=20)
    last = Integer(default=0)


TABLES = (Complaint, ComplaintClock, ComplaintEvent, ComplaintSequence)
