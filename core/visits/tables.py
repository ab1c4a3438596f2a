"""Visit schedules (one per customer and plan, with the stored due date) and recorded visits. The
report is plain JSON text {needs, opinions, suggestions} (MD28)."""

from piccolo.columns import UUID, Boolean, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class VisitSchedule(TenantOwned, tablename="visit_schedule"):
    """A customer's place in a plan: ``due_at`` is stored when the plan starts or a visit meets it,
    never recomputed from the wall clock; the tick moves ``due`` to ``overdue`` once."""

    customer_id = UUID()
    vertical = Varchar(length=40)
    plan_id = Varchar(length=60)
    grade = Varchar(length=40, null=True, default=None)
    channel = Varchar(length=16)  # on_site | phone | any
    every_days = Integer()
    monthly = Boolean(default=False)  # due by the end of each calendar month
    priority = Integer()  # the service-priority rank (MD17): lower is served first
    owner_id = UUID(null=True, default=None)
    department_id = UUID(null=True, default=None)
    status = Varchar(length=16)  # due | overdue | ended
    due_at = Timestamptz()
    last_visit_at = Timestamptz(null=True, default=None)
    overdue_at = Timestamptz(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)


class Visit(TenantOwned, tablename="visit"):
    customer_id = UUID()
    schedule_id = UUID(null=True, default=None)
    plan_id = Varchar(length=60, null=True, default=None)
    channel = Varchar(length=16)
    visited_at = Timestamptz()
    visitor = Varchar(length=100)
    owner_id = UUID(null=True, default=None)
    department_id = UUID(null=True, default=None)
    report = Text(default="{}")
    recorded_at = Timestamptz()


TABLES = (VisitSchedule, Visit)
