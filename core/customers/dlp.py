"""Controlled export (issue 24, seed-004 CSM-26): the tenant's data-loss-prevention policy for
bulk customer exports that carry contact methods. Pure: no I/O.

``mode``: ``off`` (allowed, the verdict still recorded), ``flag`` (allowed and flagged for review in
the audit log and an event), ``block`` (refused: EXPORT_BLOCKED_BY_DLP). An export without contact
columns is always ``allowed``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core.errors import KehuError

SETTING_KEY = "export_dlp"
MODES = ("off", "flag", "block")
CONTACT_COLUMNS = ("phones", "emails")
ALLOWED, FLAGGED, BLOCKED = "allowed", "flagged", "blocked"


@dataclass(frozen=True, slots=True)
class ExportDlpPolicy:
    mode: str = "off"

    @classmethod
    def from_mapping(cls, value: Mapping[str, object]) -> ExportDlpPolicy:
        mode = value.get("mode", "off")
        if mode not in MODES:
            raise KehuError("DLP_MODE_INVALID", "the mode is off, flag or block", "模式须为 off、flag 或 block",
                            field="mode")
        return cls(mode=str(mode))

    def as_dict(self) -> dict[str, object]:
        return {"mode": self.mode}

    def verdict(self, fields: Sequence[str] | None) -> str:
        """The verdict on an export of ``fields`` (None: every column, contacts included)."""
        carries_contacts = fields is None or bool(set(fields) & set(CONTACT_COLUMNS))
        if not carries_contacts or self.mode == "off":
            return ALLOWED
        return FLAGGED if self.mode == "flag" else BLOCKED
