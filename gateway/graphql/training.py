"""GraphQL for staff training and assessments (issue 24, seed-004 §5.3, CSM-30): thin resolvers
over core.governance.training.

A score at or above the pass mark (``trainingSettings.passScore``, default 60 of 100) passes; a
failure sets RETAKE_OR_RETRAIN, a second failure of the same course PENALTY_ELIGIBLE (a flag, no
penalty applied). An employee with a hire day and no probation assessment passed within
``probationWithinMonths`` calendar months (default 3) is ``probationOverdue``.
"""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from core.governance import training
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    list_connection,
    mutate,
    page_request,
    parse_id,
)


@strawberry.type(description="A training course with its scale (full marks).")
class TrainingCourse:
    id: strawberry.ID
    title: str
    scale: int
    probation: bool = strawberry.field(description="The probation assessment of new employees.")

    @classmethod
    def of(cls, v: training.CourseView) -> TrainingCourse:
        return cls(id=strawberry.ID(str(v.id)), title=v.title, scale=v.scale, probation=v.probation)


@strawberry.type(description="An employee's assessment in a course.")
class TrainingResult:
    id: strawberry.ID
    course_id: strawberry.ID
    user_id: strawberry.ID
    score: Decimal
    pass_score: Decimal = strawberry.field(description="The pass mark on the course's scale when it was recorded.")
    outcome: str = strawberry.field(description="PASSED | FAILED")
    failures: int = strawberry.field(description="Failures of this course by the employee, this one included.")
    status: str = strawberry.field(description="IN_GOOD_STANDING | RETAKE_OR_RETRAIN | PENALTY_ELIGIBLE")
    assessed_at: datetime

    @classmethod
    def of(cls, v: training.ResultView) -> TrainingResult:
        return cls(id=strawberry.ID(str(v.id)), course_id=strawberry.ID(str(v.course_id)),
                   user_id=strawberry.ID(str(v.user_id)), score=v.score, pass_score=v.pass_score, outcome=v.outcome,
                   failures=v.failures, status=v.status, assessed_at=v.assessed_at)


@strawberry.type(description="An employee's training standing and probation clock.")
class EmployeeTraining:
    user_id: strawberry.ID
    hire_day: dt.date | None
    status: str = strawberry.field(description="The worst standing over the latest result of each course.")
    probation_due_day: dt.date | None = strawberry.field(description="hireDay + probationWithinMonths")
    probation_passed: bool
    probation_overdue: bool
    results: list[TrainingResult]

    @classmethod
    def of(cls, v: training.EmployeeTrainingView) -> EmployeeTraining:
        return cls(user_id=strawberry.ID(str(v.user_id)), hire_day=v.hire_day, status=v.status,
                   probation_due_day=v.probation_due_day, probation_passed=v.probation_passed,
                   probation_overdue=v.probation_overdue, results=[TrainingResult.of(r) for r in v.results])


@strawberry.type(description="The pass mark (of 100) and the probation window (calendar months).")
class TrainingSettings:
    pass_score: int
    probation_within_months: int


@strawberry.type
class TrainingCoursePayload:
    course: TrainingCourse | None = None
    errors: list[UserError]


@strawberry.type
class TrainingResultPayload:
    result: TrainingResult | None = None
    errors: list[UserError]


@strawberry.type
class EmployeeTrainingPayload:
    employee: EmployeeTraining | None = None
    errors: list[UserError]


@strawberry.type
class TrainingSettingsPayload:
    settings: TrainingSettings | None = None
    errors: list[UserError]


@strawberry.type
class TrainingQuery:
    @strawberry.field(description="Training courses (training.read).")
    async def training_courses(self, info: Info, first: int | None = None, after: str | None = None,
                               last: int | None = None, before: str | None = None) -> Connection[TrainingCourse]:
        request = page_request(info, "trainingCourses", first, after, last, before)
        found = await training.list_courses(ctx_of(info))
        return list_connection(request, found, lambda c: [str(c.id)], TrainingCourse.of)

    @strawberry.field(description="An employee's results, standing and probation clock on a day (today when not "
                                  "given); training.read.")
    async def employee_training(self, info: Info, user_id: strawberry.ID, on: dt.date | None = None) -> EmployeeTraining:
        return EmployeeTraining.of(await training.employee_training(ctx_of(info), parse_id(user_id, "userId"), on=on))

    @strawberry.field(description="Employees with a training record, by hire day; probationOverdue keeps those (not) "
                                  "overdue for their probation assessment on a day (today when not given).")
    async def training_employees(self, info: Info, probation_overdue: bool | None = None, on: dt.date | None = None,
                                 first: int | None = None, after: str | None = None, last: int | None = None,
                                 before: str | None = None) -> Connection[EmployeeTraining]:
        request = page_request(info, "trainingEmployees", first, after, last, before)
        found = await training.training_employees(ctx_of(info), probation_overdue=probation_overdue, on=on)
        return list_connection(request, found, lambda e: [str(e.user_id)], EmployeeTraining.of)

    @strawberry.field(description="The tenant's pass mark and probation window (training.read).")
    async def training_settings(self, info: Info) -> TrainingSettings:
        return TrainingSettings(**await training.training_settings(ctx_of(info)))


@strawberry.type
class TrainingMutation:
    @strawberry.mutation(description="Create a training course (training.manage); scale 100 unless given; probation "
                                     "marks the assessment new employees must pass within their probation window.")
    async def training_course_create(self, info: Info, title: str, scale: int = 100,
                                     probation: bool = False) -> TrainingCoursePayload:
        async def call() -> dict:
            view = await training.create_course(ctx_of(info), title=title, scale=scale, probation=probation)
            return {"course": TrainingCourse.of(view)}
        return await mutate(info, TrainingCoursePayload, call)

    @strawberry.mutation(description="Record an employee's hire day on their training record (training.manage).")
    async def training_hire_day_set(self, info: Info, user_id: strawberry.ID,
                                    hire_day: dt.date) -> EmployeeTrainingPayload:
        async def call() -> dict:
            view = await training.set_hire_day(ctx_of(info), parse_id(user_id, "userId"), hire_day)
            return {"employee": EmployeeTraining.of(view)}
        return await mutate(info, EmployeeTrainingPayload, call)

    @strawberry.mutation(description="Record an assessment (training.manage): PASSED at or above the pass mark, "
                                     "FAILED below it (RETAKE_OR_RETRAIN; the second failure of a course: "
                                     "PENALTY_ELIGIBLE, no penalty applied).")
    async def training_result_record(self, info: Info, course_id: strawberry.ID, user_id: strawberry.ID,
                                     score: Decimal) -> TrainingResultPayload:
        async def call() -> dict:
            view = await training.record_result(ctx_of(info), course_id=parse_id(course_id, "courseId"),
                                                user_id=parse_id(user_id, "userId"), score=score)
            return {"result": TrainingResult.of(view)}
        return await mutate(info, TrainingResultPayload, call)

    @strawberry.mutation(description="Set the pass mark (1-100) and the probation window (1-24 calendar months); "
                                     "tenant.settings.manage.")
    async def training_settings_update(self, info: Info, pass_score: int | None = None,
                                       probation_within_months: int | None = None) -> TrainingSettingsPayload:
        async def call() -> dict:
            values = await training.update_training_settings(ctx_of(info), {
                "pass_score": pass_score, "probation_within_months": probation_within_months})
            return {"settings": TrainingSettings(**values)}
        return await mutate(info, TrainingSettingsPayload, call)
