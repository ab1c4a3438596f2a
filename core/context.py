"""Who is acting, for which tenant, in which request: passed to every service function."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from uuid import UUID


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Context:
    """The immutable context of one service call.

    ``actor`` names who acts: ``user:<id>``, ``apikey:<id>``, ``job:<name>`` or ``cli``.
    A context without ``tenant_id`` can touch only platform tables.
    """

    tenant_id: UUID | None
    actor: str
    request_id: str = field(default_factory=new_request_id)
    client_address: str | None = None
    permissions: frozenset[str] = frozenset()
    language: str = "en"

    @classmethod
    def system(cls, actor: str = "cli", tenant_id: UUID | None = None) -> Context:
        return cls(tenant_id=tenant_id, actor=actor)

    def for_tenant(self, tenant_id: UUID) -> Context:
        return replace(self, tenant_id=tenant_id)
