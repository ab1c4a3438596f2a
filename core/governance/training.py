"""Training courses and assessments of the staff who use the customer system (issue 24, seed-004
§5.3, CSM-30), one function per use case: create a course, record an employee's hire day, record
an assessment result, read and change the pass mark and the probation window, read an employee's
standing, list employees (those overdue for their probation assessment).

A score at or above the pass mark passes ("及以上"); a failure means retake or retrain; a second
failure of the same course makes the employee PENALTY_ELIGIBLE: a flag for a person to act on,
never a penalty applied by the system. The pass mark ``pass_score`` (default 60) is in points of a
100-point scale; a course on another scale passes at the same share of its scale.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

from core.audit.chain import record as audit
from core.context import Context
from core.db import unit_of_work
from core.db.uow import UnitOfWork
from core.errors import KehuError, NotFound
from core.governance import training_policy as policy
from core.governance.training_tables import TrainingCourse, TrainingRecord, TrainingResult
from core.identity.access import require
from core.identity.policies import write_setting
from core.identity.tables import TenantSetting, User
from core.jobs import outbox

MANAGE, READ = "training.manage", "training.read"
SETTINGS: dict[str, tuple[int, int, int]] = {"pass_score": (policy.DEFAULT_PASS_SCORE, 1, 100),
                                             "probation_within_months": (policy.DEFAULT_PROBATION_MONTHS, 1, 24)}
# The day a probation window ends is read in the service's zone (the tenants' default, Shanghai).
ZONE = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    return datetime.now(UTC)


def _invalid(field: str, en: str, zh: str) -> KehuError:
    return KehuError("TRAINING_INPUT_INVALID", en, zh, field=field)


@dataclass(frozen=True, slots=True)
class CourseView:
    id: UUID
    title: str
    scale: int
    probation: bool


@dataclass(frozen=True, slots=True)
class ResultView:
    id: UUID
    course_id: UUID
    user_id: UUID
    score: Decimal
    pass_score: Decimal
    outcome: str  # PASSED | FAILED
    failures: int  # failures of this course by this employee so far, this one included
    status: str  # IN_GOOD_STANDING | RETAKE_OR_RETRAIN | PENALTY_ELIGIBLE after this result
    assessed_at: datetime


@dataclass(frozen=True, slots=True)
class EmployeeTrainingView:
    user_id: UUID
    hire_day: date | None
    status: str  # the worst standing over the latest result of each course
    probation_due_day: date | None
    probation_passed: bool
    probation_overdue: bool
    results: tuple[ResultView, ...]


def _course(row: Mapping[str, Any]) -> CourseView:
    return CourseView(id=row["id"], title=row["title"], scale=int(row["scale"]), probation=bool(row["probation"]))


def _result(row: Mapping[str, Any]) -> ResultView:
    return ResultView(id=row["id"], course_id=row["course_id"], user_id=row["user_id"], score=Decimal(row["score"]),
                      pass_score=Decimal(row["pass_score"]), outcome=row["outcome"], failures=int(row["failures"]),
                      status=policy.course_status(row["outcome"], int(row["failures"])),
                      assessed_at=row["assessed_at"].astimezone(UTC))


# --- settings ------------------------------------------------------------------------------------

async def _setting(uow: UnitOfWork, key: str) -> int:
    row = await uow.select(TenantSetting.value).where(TenantSetting.key == key).first()
    return int(json.loads(row["value"])) if row else SETTINGS[key][0]


async def training_settings(ctx: Context) -> dict[str, int]:
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        return {key: await _setting(uow, key) for key in SETTINGS}


async def update_training_settings(ctx: Context, changes: Mapping[str, int | None]) -> dict[str, int]:
    """The pass mark (1-100, of a 100-point scale) and the probation window (1-24 calendar months)."""
    require(ctx, "tenant.settings.manage")
    for key, value in changes.items():
        if key not in SETTINGS:
            raise KehuError("SETTING_UNKNOWN", f"no training setting {key!r}", f"没有培训设置 {key!r}", field=key)
        _, low, high = SETTINGS[key]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high):
            raise KehuError("SETTING_INVALID", f"{key} must be a whole number from {low} to {high}",
                            f"{key} 须为 {low} 至 {high} 的整数", field=key)
    async with unit_of_work(ctx) as uow:
        before = {key: await _setting(uow, key) for key in SETTINGS}
        after = dict(before)
        for key, value in changes.items():
            if value is not None and value != before[key]:
                await write_setting(uow, key, value)  # type: ignore[arg-type]  # a bare number
                await audit(uow, "setting.updated", "tenant_setting", key, {key: (before[key], value)})
                await outbox.add(uow, "setting.updated", "tenant_setting", key, (key,))
                after[key] = value
        return after


# --- use cases -----------------------------------------------------------------------------------

async def create_course(ctx: Context, *, title: str, scale: int = 100, probation: bool = False) -> CourseView:
    require(ctx, MANAGE)
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise _invalid("title", "a course needs a title of at most 200 characters", "课程名称必填，最多 200 字")
    if isinstance(scale, bool) or not isinstance(scale, int) or not 1 <= scale <= 1000:
        raise _invalid("scale", "the scale is a whole number from 1 to 1000", "满分须为 1 至 1000 的整数")
    async with unit_of_work(ctx) as uow:
        row_id = uuid4()
        await uow.insert(TrainingCourse(id=row_id, title=title, scale=scale, probation=probation))
        await audit(uow, "training_course.created", "training_course", row_id,
                    {"title": (None, title), "scale": (None, scale), "probation": (None, probation)})
        await outbox.add(uow, "training_course.created", "training_course", row_id, {"title": title})
        return CourseView(id=row_id, title=title, scale=scale, probation=probation)


async def _user(uow: UnitOfWork, user_id: UUID) -> None:
    if not await uow.exists(User).where(User.id == user_id):
        raise NotFound("user", user_id)


async def set_hire_day(ctx: Context, user_id: UUID, hire_day: date) -> EmployeeTrainingView:
    """Record the day an employee was hired on their training record (the probation clock)."""
    require(ctx, MANAGE)
    at = now()
    if hire_day > at.astimezone(ZONE).date():
        raise _invalid("hireDay", "the hire day cannot lie in the future", "入职日期不能晚于今天")
    async with unit_of_work(ctx) as uow:
        await _user(uow, user_id)
        row = await uow.select(TrainingRecord).where(TrainingRecord.user_id == user_id).first()
        before = row["hire_day"] if row else None
        if row is None:
            row_id = uuid4()
            await uow.insert(TrainingRecord(id=row_id, user_id=user_id, hire_day=hire_day.isoformat(), updated_at=at))
        else:
            row_id = row["id"]
            await uow.update(TrainingRecord, {TrainingRecord.hire_day: hire_day.isoformat(),
                                              TrainingRecord.updated_at: at}).where(TrainingRecord.id == row_id)
        await audit(uow, "training_record.hire_day_set", "training_record", row_id,
                    {"user_id": (None, str(user_id)), "hire_day": (before, hire_day.isoformat())})
        await outbox.add(uow, "training_record.updated", "training_record", row_id, {"user_id": str(user_id)})
        return await _employee(uow, user_id, at.astimezone(ZONE).date())


async def record_result(ctx: Context, *, course_id: UUID, user_id: UUID, score: Any) -> ResultView:
    """Record an employee's assessment in a course: PASSED at or above the pass mark, else FAILED
    (RETAKE_OR_RETRAIN; a second failure of the course: PENALTY_ELIGIBLE, no penalty applied)."""
    require(ctx, MANAGE)
    at = now()
    value = policy.decimal_score(score)
    if value is None:
        raise _invalid("score", "the score is a number", "成绩须为数字")
    async with unit_of_work(ctx) as uow:
        course = await uow.select(TrainingCourse).where(TrainingCourse.id == course_id).first()
        if course is None:
            raise NotFound("training course", course_id)
        if not 0 <= value <= course["scale"]:
            raise _invalid("score", f"the score lies from 0 to the course's scale {course['scale']}",
                           f"成绩须在 0 至满分 {course['scale']} 之间")
        await _user(uow, user_id)
        pass_score = Decimal(await _setting(uow, "pass_score")) * Decimal(course["scale"]) / Decimal(100)
        outcome = policy.outcome(value, pass_score)
        earlier = await uow.count(TrainingResult).where(
            (TrainingResult.course_id == course_id) & (TrainingResult.user_id == user_id)
            & (TrainingResult.outcome == policy.FAILED))
        failures = earlier + (outcome == policy.FAILED)
        row_id = uuid4()
        await uow.insert(TrainingResult(id=row_id, course_id=course_id, user_id=user_id, score=str(value),
                                        pass_score=str(pass_score.normalize()), outcome=outcome, failures=failures,
                                        assessed_at=at, recorded_by=ctx.actor))
        status = policy.course_status(outcome, failures)
        await audit(uow, "training_result.recorded", "training_result", row_id,
                    {"course_id": (None, str(course_id)), "user_id": (None, str(user_id)),
                     "score": (None, str(value)), "outcome": (None, outcome), "status": (None, status)})
        await outbox.add(uow, "training_result.recorded", "training_result", row_id,
                         {"user_id": str(user_id), "outcome": outcome, "status": status})
        return _result(await uow.select(TrainingResult).where(TrainingResult.id == row_id).first())


async def _employee(uow: UnitOfWork, user_id: UUID, today: date) -> EmployeeTrainingView:
    record = await uow.select(TrainingRecord).where(TrainingRecord.user_id == user_id).first()
    rows = await uow.select(TrainingResult).where(TrainingResult.user_id == user_id).order_by(
        TrainingResult.assessed_at)
    probation_courses = {r["id"] for r in await uow.select(TrainingCourse.id).where(TrainingCourse.probation == True)}  # noqa: E712
    months = await _setting(uow, "probation_within_months")
    return _employee_view(user_id, record, rows, probation_courses, months, today)


def _employee_view(user_id: UUID, record: Mapping[str, Any] | None, rows: Sequence[Mapping[str, Any]],
                   probation_courses: set[UUID], months: int, today: date) -> EmployeeTrainingView:
    results = tuple(_result(r) for r in rows)
    latest = {r.course_id: r.status for r in results}
    hire = date.fromisoformat(record["hire_day"]) if record and record["hire_day"] else None
    passed = any(r.outcome == policy.PASSED and r.course_id in probation_courses for r in results)
    return EmployeeTrainingView(user_id=user_id, hire_day=hire, status=policy.standing(latest.values()),
                                probation_due_day=policy.probation_due(hire, months) if hire else None,
                                probation_passed=passed,
                                probation_overdue=policy.probation_overdue(hire, months, passed, today),
                                results=results)


async def employee_training(ctx: Context, user_id: UUID, *, on: date | None = None) -> EmployeeTrainingView:
    """An employee's results, standing and probation clock on ``on`` (today when not given)."""
    require(ctx, READ)
    today = on or now().astimezone(ZONE).date()
    async with unit_of_work(ctx, write=False) as uow:
        await _user(uow, user_id)
        return await _employee(uow, user_id, today)


async def list_courses(ctx: Context) -> list[CourseView]:
    require(ctx, READ)
    async with unit_of_work(ctx, write=False) as uow:
        rows = await uow.select(TrainingCourse).order_by(TrainingCourse.created_at).order_by(TrainingCourse.id)
    return [_course(r) for r in rows]


async def training_employees(ctx: Context, *, probation_overdue: bool | None = None,
                             on: date | None = None) -> list[EmployeeTrainingView]:
    """The employees with a training record, by hire day; ``probationOverdue`` keeps those (not)
    overdue for their probation assessment on ``on``."""
    require(ctx, READ)
    today = on or now().astimezone(ZONE).date()
    async with unit_of_work(ctx, write=False) as uow:
        records = await uow.select(TrainingRecord).order_by(TrainingRecord.hire_day).order_by(TrainingRecord.user_id)
        found = [await _employee(uow, r["user_id"], today) for r in records]
    return [v for v in found if probation_overdue is None or v.probation_overdue == probation_overdue]
