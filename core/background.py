"""Every kind of background work kehu has, in one place: importing this module registers the
long-job kinds and periodic sweeps, and ``configure_background_work`` gives those that need them
the deployment's verticals. The embedded app, ``kehu worker`` and ``kehu scheduler`` all call it,
so a new sweep or job kind is added here once and runs in every profile."""

from __future__ import annotations

import core.archives.retention  # noqa: F401 - archive_retention sweep
import core.auditing.service  # noqa: F401 - audit.export job, audit_anchors sweep
import core.blacklists.service  # noqa: F401 - blacklist_expiry sweep
import core.complaints.service  # noqa: F401 - complaint_clocks sweep
import core.complaints.reports  # noqa: F401 - complaint.report job
import core.customers.exporting  # noqa: F401 - customer.export job
import core.customers.service  # noqa: F401 - customer_reviews sweep
import core.grading.service  # noqa: F401 - grade_deadlines sweep
import core.idempotency.service  # noqa: F401 - idempotency_keys sweep (expired keys)
import core.privacy.access_requests  # noqa: F401 - access_requests sweep (expiry)
import core.privacy.borrowing  # noqa: F401 - archive_loans sweep
import core.privacy.rekey  # noqa: F401 - privacy.rekey job
import core.privacy.subject_requests  # noqa: F401 - privacy.subject_export job, subject_requests sweep
import core.webhooks.delivery  # noqa: F401 - webhook handler and its sweep
import core.visits.service  # noqa: F401 - visit_schedules sweep (overdue visits)
import core.customers.importing  # noqa: F401 - customer.import job, customer_import_uploads sweep
from core.plugins.manager import VerticalRegistry, start_verticals
import core.privacy.retention  # noqa: F401 - privacy.purge job, privacy_purge sweep
import core.backup.schedule  # noqa: F401 - monthly_backups sweep (seed-002 §1)


def configure_background_work(registry: VerticalRegistry) -> None:
    """The deployment's verticals, for the ticks and jobs that run their rules."""
    start_verticals(registry)
