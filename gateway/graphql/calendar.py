"""GraphQL for the tenant's working calendar, which every working-day deadline follows."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from core.calendar import settings as calendar_settings
from core.calendar.days import TenantCalendar
from gateway.graphql.common import UserError, ctx_of, mutate


@strawberry.type(description="Official holidays and 调休 apply; these are the tenant's own additions.")
class WorkingCalendar:
    timezone: str
    extra_holidays: list[str]
    extra_workdays: list[str]
    opens: str
    closes: str

    @classmethod
    def of(cls, calendar: TenantCalendar) -> WorkingCalendar:
        data = calendar.to_mapping()
        return cls(timezone=data["timezone"], extra_holidays=list(data["extra_holidays"]),
                   extra_workdays=list(data["extra_workdays"]), opens=data["opens"], closes=data["closes"])


@strawberry.input
class WorkingCalendarInput:
    timezone: str | None = None
    extra_holidays: list[str] | None = strawberry.field(default=None, description="YYYY-MM-DD dates")
    extra_workdays: list[str] | None = None
    opens: str | None = strawberry.field(default=None, description="HH:MM")
    closes: str | None = None


@strawberry.type
class WorkingCalendarPayload:
    calendar: WorkingCalendar | None = None
    errors: list[UserError]


@strawberry.type
class CalendarQuery:
    @strawberry.field
    async def working_calendar(self, info: Info) -> WorkingCalendar:
        return WorkingCalendar.of(await calendar_settings.read_calendar(ctx_of(info)))


@strawberry.type
class CalendarMutation:
    @strawberry.mutation(description="Change the tenant's time zone, own holidays or working days, business hours.")
    async def working_calendar_update(self, info: Info, input: WorkingCalendarInput) -> WorkingCalendarPayload:
        async def call() -> dict:
            changes = {k: v for k, v in vars(input).items() if v is not None}
            return {"calendar": WorkingCalendar.of(await calendar_settings.update_calendar(ctx_of(info), changes))}
        return await mutate(info, WorkingCalendarPayload, call)
