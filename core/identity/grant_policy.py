"""High-risk grants (issue 24, seed-004 CSM-21): which permissions a tenant marks as high-risk and
whether a role grant needs a department head's approval. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from core.errors import KehuError

# The default high-risk set: bulk export, clear personal data, erasure and the control of roles.
DEFAULT_HIGH_RISK = tuple(sorted(("customer.export", "customer.pii.unmask", "privacy.erase", "privacy.legal_hold",
                                   "role.manage", "role.grant")))
APPROVE_PERMISSION = "role.grant.approve"
SETTING_KEY = "high_risk_grants"


@dataclass(frozen=True, slots=True)
class HighRiskGrantPolicy:
    """``enabled``: grants that give a high-risk permission wait for approval. Off for a tenant that
    never set it (existing tenants keep granting as before); the tenant turns it on."""

    enabled: bool = False
    permissions: tuple[str, ...] = DEFAULT_HIGH_RISK

    @classmethod
    def from_mapping(cls, value: Mapping[str, object], known: Iterable[str] | None = None) -> HighRiskGrantPolicy:
        enabled = value.get("enabled", False)
        if not isinstance(enabled, bool):
            raise KehuError("GRANT_POLICY_INVALID", "enabled is true or false", "enabled 须为 true 或 false",
                            field="enabled")
        raw = value.get("permissions", list(DEFAULT_HIGH_RISK))
        if not isinstance(raw, (list, tuple)) or not all(isinstance(p, str) for p in raw):
            raise KehuError("GRANT_POLICY_INVALID", "permissions is a list of permission names",
                            "permissions 须为权限名称列表", field="permissions")
        if known is not None:
            unknown = sorted(set(raw) - set(known))
            if unknown:
                raise KehuError("GRANT_POLICY_INVALID", f"unknown permissions: {', '.join(unknown)}",
                                f"未知权限：{', '.join(unknown)}", field="permissions")
        return cls(enabled=enabled, permissions=tuple(sorted(set(raw))))

    def as_dict(self) -> dict[str, object]:
        return {"enabled": self.enabled, "permissions": list(self.permissions)}

    def new_high_risk(self, gives: Iterable[str], held: Iterable[str]) -> list[str]:
        """The high-risk permissions in ``gives`` that the grantee does not hold yet: non-empty
        means the grant waits for approval."""
        if not self.enabled:
            return []
        return sorted(set(gives) & set(self.permissions) - set(held))
