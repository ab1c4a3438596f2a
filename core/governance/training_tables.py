"""Training courses, employees' training records (hire day) and assessment results (seed-004 §5.3,
CSM-30). Scores are decimal text ("59.5") so that no float rounding decides a pass."""

from piccolo.columns import UUID, Boolean, Integer, Timestamptz, Varchar

from core.db.tables import TenantOwned


class TrainingCourse(TenantOwned, tablename="training_course"):
    title = Varchar(length=200)
    scale = Integer(default=100)
    probation = Boolean(default=False)  # the probation assessment of new employees


class TrainingRecord(TenantOwned, tablename="training_record"):
    """One per employee (a user of the tenant): the hire day the probation clock counts from."""

    user_id = UUID()
    hire_day = Varchar(length=10, null=True, default=None)  # ISO date
    updated_at = Timestamptz()


class TrainingResult(TenantOwned, tablename="training_result"):
    course_id = UUID()
    user_id = UUID()
    score = Varchar(length=20)  # decimal text
    pass_score = Varchar(length=20)  # the pass mark in force when it was recorded
    outcome = Varchar(length=24)  # PASSED | FAILED
    failures = Integer(default=0)  # failures of this course by this employee, this one included
    assessed_at = Timestamptz()
    recorded_by = Varchar(length=100)


TABLES = (TrainingCourse, TrainingRecord, TrainingResult)
