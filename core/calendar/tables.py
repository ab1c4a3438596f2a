"""The official holiday schedules loaded by an operator (``kehu calendar load``): platform data,
one row per year, the same for every tenant."""

from piccolo.columns import Integer, Text, Timestamptz, Varchar

from core.db.tables import PlatformTable


class CalendarYear(PlatformTable, tablename="calendar_year"):
    """One year's State Council schedule; loading the year again replaces it."""

    year = Integer(unique=True)
    notice = Text(default="")  # the notice it comes from (国办发明电〔…〕…号)
    holidays = Text()  # JSON {"YYYY-MM-DD": name}
    workdays = Text()  # JSON {"YYYY-MM-DD": name of the holiday made up for}
    checksum = Varchar(length=64)  # SHA-256 of the loaded file
    loaded_at = Timestamptz()
    loaded_by = Varchar(length=100)


# What this domain registers with core's Piccolo app (core/piccolo_app.py).
TABLES = (CalendarYear,)
