"""Grading: facts the tenant records, current grades, their history, review runs and the deadlines
of required changes. ``scope_key`` is ``tenant`` or the id of the department or product line the
grade holds in (MD19); JSON columns hold plain JSON text."""

from piccolo.columns import UUID, Integer, Text, Timestamptz, Varchar

from core.db.tables import TenantOwned


class GradeFact(TenantOwned, tablename="grade_fact"):
    """One recorded value of a fact about a customer in a scope; the latest per name counts."""

    customer_id = UUID()
    scope_key = Varchar(length=64)
    name = Varchar(length=60)
    value = Text()  # JSON
    recorded_at = Timestamptz()
    recorded_by = Varchar(length=100)


class CustomerGrade(TenantOwned, tablename="customer_grade"):
    """A customer's current grade in one scheme and scope."""

    vertical = Varchar(length=40)
    scheme = Varchar(length=40)
    customer_id = UUID()
    scope_key = Varchar(length=64)
    grade = Varchar(length=40)
    since = Timestamptz()
    version = Integer(default=1)


class GradeChange(TenantOwned, tablename="grade_change"):
    """The history: every grade a customer received, by whom, how (review, override, deadline) and why."""

    vertical = Varchar(length=40)
    scheme = Varchar(length=40)
    customer_id = UUID()
    scope_key = Varchar(length=64)
    from_grade = Varchar(length=40, null=True, default=None)
    to_grade = Varchar(length=40)
    at = Timestamptz()
    actor = Varchar(length=100)
    source = Varchar(length=16)  # review | override | deadline
    reason = Text(default="")
    review_id = UUID(null=True, default=None)


class GradeReview(TenantOwned, tablename="grade_review"):
    """A review run: proposed grades for a scope's population and every cap violation (what-if)."""

    vertical = Varchar(length=40)
    scheme = Varchar(length=40)
    scope_key = Varchar(length=64)
    status = Varchar(length=16)  # proposed | approved | published
    proposed_by = Varchar(length=100)
    proposed_at = Timestamptz()
    approved_by = Varchar(length=100, null=True, default=None)
    approved_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    proposals = Text(default="{}")  # JSON {customer id: grade}
    violations = Text(default="[]")  # JSON, as computed when proposed


class GradeDeadline(TenantOwned, tablename="grade_deadline"):
    """A required change (MD10): the customer must be at ``required_grade`` or below by ``due_at``;
    the tick carries it out if no one has. ``next_due_at`` is null once met or enforced."""

    vertical = Varchar(length=40)
    scheme = Varchar(length=40)
    customer_id = UUID()
    scope_key = Varchar(length=64)
    required_grade = Varchar(length=40)
    reason = Text()
    flagged_by = Varchar(length=100)
    flagged_at = Timestamptz()
    due_at = Timestamptz()
    next_due_at = Timestamptz(null=True, default=None)
    status = Varchar(length=16)  # open | met | enforced
    resolved_at = Timestamptz(null=True, default=None)


TABLES = (GradeFact, CustomerGrade, GradeChange, GradeReview, GradeDeadline)
