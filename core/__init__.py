"""kehu core: tenancy, identity, customers, privacy, audit, jobs and the vertical engines."""

__version__ = "0.1.0"
