"""GraphQL for the tenant's working calendar, which every working-day deadline follows."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from core.calendar import settings as calendar_settings
from core.calendar.days import TenantCalendar
from gateway.graphql.common import Connection, UserError, ctx_of, list_connection, mutate, page_request


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


@strawberry.type(description="One day of the tenant's calendar.")
class CalendarDay:
    date: date
    working: bool = strawberry.field(description="A working day for the tenant's deadlines.")
    provisional: bool = strawberry.field(description=(
        "The day's year has no official holiday schedule yet (neither loaded nor in the library): it is "
        "classified by kehu's provisional schedule and may change when `kehu calendar load` loads it."))
    holiday: str | None = strawberry.field(description=(
        "Why a non-working day is off: the official holiday's name, or \"tenant\" for the tenant's own closure "
        "(null on weekends and working days)."))


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

    @strawberry.field(description="The tenant's calendar day by day from `from` to `to` (both included, at most "
                                  "366 days): working or not, and provisional where no official schedule is known.")
    async def working_days(self, info: Info, from_: Annotated[date, strawberry.argument(name="from")],
                           to: date, first: int | None = None, after: str | None = None,
                           last: int | None = None, before: str | None = None) -> Connection[CalendarDay]:
        request = page_request(info, "workingDays", first, after, last, before)
        days = await calendar_settings.working_days(ctx_of(info), from_, to)
        return list_connection(request, days, lambda d: [d.day.isoformat()], lambda d: CalendarDay(
            date=d.day, working=d.working, provisional=d.provisional, holiday=d.holiday))


@strawberry.type
class CalendarMutation:
    @strawberry.mutation(description="Change the tenant's time zone, own holidays or working days, business hours.")
    async def working_calendar_update(self, info: Info, input: WorkingCalendarInput) -> WorkingCalendarPayload:
        async def call() -> dict:
            changes = {k: v for k, v in vars(input).items() if v is not None}
            return {"calendar": WorkingCalendar.of(await calendar_settings.update_calendar(ctx_of(info), changes))}
        return await mutate(info, WorkingCalendarPayload, call)
