"""Who is acting, for which tenant, in which request: passed to every service function."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING
from uuid import UUID

if TYPE_CHECKING:  # a name for the annotations only: importing it would pull the plugin contract in
    from core.identity.permissions import Scope


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user (by access token) or a service account (by API key)."""

    tenant_id: UUID
    user_id: UUID | None
    api_key_id: UUID | None
    permissions: Mapping[str, Scope]
    department_ids: frozenset[UUID] = frozenset()
    session_id: UUID | None = None
    # A login with a password someone else chose (or an expired one): it may change the password
    # and nothing else (core.identity.access.require refuses the rest with PASSWORD_CHANGE_REQUIRED).
    password_change_required: bool = False
    # CSM-20: the highest customer access level this caller reads (a user's clearance; 0 for an
    # API key); None only where no principal limits it.
    clearance: int | None = None

    @property
    def actor(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"apikey:{self.api_key_id}"


@dataclass(frozen=True, slots=True)
class Context:
    """The immutable context of one service call.

    ``actor`` names who acts: ``user:<id>``, ``apikey:<id>``, ``job:<name>``, ``cli`` or
    ``anonymous``. A context without ``tenant_id`` can touch only platform tables. A system
    context (CLI, jobs) holds every permission; an anonymous one holds none.
    """

    tenant_id: UUID | None
    actor: str
    request_id: str = field(default_factory=new_request_id)
    client_address: str | None = None
    principal: Principal | None = None
    is_system: bool = False
    language: str = "en"

    @classmethod
    def system(cls, actor: str = "cli", tenant_id: UUID | None = None) -> Context:
        return cls(tenant_id=tenant_id, actor=actor, is_system=True)

    @classmethod
    def anonymous(cls, *, request_id: str | None = None, client_address: str | None = None,
                  language: str = "en") -> Context:
        return cls(tenant_id=None, actor="anonymous", request_id=request_id or new_request_id(),
                   client_address=client_address, language=language)

    @classmethod
    def for_principal(cls, principal: Principal, *, request_id: str | None = None,
                      client_address: str | None = None, language: str = "en") -> Context:
        return cls(tenant_id=principal.tenant_id, actor=principal.actor, request_id=request_id or new_request_id(),
                   client_address=client_address, principal=principal, language=language)

    def for_tenant(self, tenant_id: UUID) -> Context:
        return replace(self, tenant_id=tenant_id)

    @property
    def user_id(self) -> UUID | None:
        return self.principal.user_id if self.principal else None

