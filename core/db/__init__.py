"""Database access: engines for both profiles, migrations and the unit of work."""

from core.db.engine import Database, current_database, use_database
from core.db.uow import UnitOfWork, unit_of_work

__all__ = ["Database", "UnitOfWork", "current_database", "unit_of_work", "use_database"]
