"""GraphQL for sign-in controls and the register of refused attempts (seed-004 CSM-15, CSM-17 to
CSM-19, CSM-25; issue 24 point 3): thin resolvers over core.identity.

- ``signInChallenge``: the question a sign-in must answer after repeated failures (anonymous).
- ``totpEnrolmentStart`` / ``totpEnrolmentConfirm`` / ``totpDisable``: the caller's own second
  factor; ``totpReset``: an administrator turns a user's off (``user.manage``).
- ``accountCompromiseReport``: lock an account reported stolen or leaked (one's own, or anyone's
  with ``user.manage``); it opens again by ``userPasswordReset``.
- ``signInPolicy`` / ``signInPolicyUpdate``: the tenant's TOTP requirement, network allow-lists
  and challenge threshold (``tenant.settings.manage``).
- ``refusedAttempts``: the security log of refusals, newest first (``audit.read``).
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from core.identity import policies, refusals, sessions, totp
from gateway.graphql.common import (
    Connection,
    UserError,
    ctx_of,
    keyset_connection,
    mutate,
    page_request,
    parse_id,
    time_id_key,
)
from gateway.graphql.identity import OkPayload


@strawberry.type(description="The tenant's sign-in controls (seed-004 CSM-17, CSM-18).")
class SignInPolicy:
    totp_required: bool = strawberry.field(description="Every user signs in with a TOTP code.")
    totp_required_roles: list[str] = strawberry.field(description="Users holding one of these roles (by name) must.")
    staff_networks: list[str] = strawberry.field(description="CIDR networks staff may sign in from; empty: any.")
    api_key_networks: list[str] = strawberry.field(description="CIDR networks API keys may be used from; empty: any.")
    challenge_after_failures: int = strawberry.field(
        description="Failed sign-ins of a username after which a sign-in needs a signInChallenge answer; 0: never.")

    @classmethod
    def of(cls, policy: policies.SignInPolicy) -> SignInPolicy:
        return cls(totp_required=policy.totp_required, totp_required_roles=list(policy.totp_required_roles),
                   staff_networks=list(policy.staff_networks), api_key_networks=list(policy.api_key_networks),
                   challenge_after_failures=policy.challenge_after_failures)


@strawberry.input(description="Only the fields given change.")
class SignInPolicyInput:
    totp_required: bool | None = None
    totp_required_roles: list[str] | None = None
    staff_networks: list[str] | None = None
    api_key_networks: list[str] | None = None
    challenge_after_failures: int | None = None


@strawberry.type(description="A refused attempt: a sign-in, an API key used from outside its networks, or a "
                             "mutation refused for permission or invalid input. Never holds a secret.")
class RefusedAttempt:
    id: strawberry.ID
    at: datetime
    actor: str
    username: str | None
    client_address: str | None
    request_id: str | None
    operation: str
    code: str
    result: str = strawberry.field(description="denied (access refused) or failure (invalid input).")
    summary: str = strawberry.field(description="JSON: the operation's argument names, ids and enum-like values; "
                                                "secrets masked, free text replaced by its length.")

    @classmethod
    def of(cls, view: refusals.RefusedAttemptView) -> RefusedAttempt:
        return cls(id=strawberry.ID(str(view.id)), at=view.at, actor=view.actor, username=view.username,
                   client_address=view.client_address, request_id=view.request_id, operation=view.operation,
                   code=view.code, result=view.result, summary=view.summary)


@strawberry.type
class SignInChallengePayload:
    challenge_id: str | None = None
    question: str | None = None
    errors: list[UserError]


@strawberry.type
class TotpEnrolmentPayload:
    secret: str | None = strawberry.field(default=None, description="Shown once: type it into the app, or use uri.")
    uri: str | None = strawberry.field(default=None, description="The otpauth:// URI (for a QR code), shown once.")
    errors: list[UserError]


@strawberry.type
class TotpConfirmPayload:
    recovery_codes: list[str] | None = strawberry.field(
        default=None, description="Single-use codes for when the phone is lost: shown once, keep them safe.")
    errors: list[UserError]


@strawberry.type
class SignInPolicyPayload:
    policy: SignInPolicy | None = None
    errors: list[UserError]


def _changes(data: SignInPolicyInput) -> dict:
    return {name: getattr(data, name) for name in ("totp_required", "totp_required_roles", "staff_networks",
                                                   "api_key_networks", "challenge_after_failures")
            if getattr(data, name) is not None}


@strawberry.type
class SignInQuery:
    @strawberry.field(description="The tenant's sign-in controls (needs tenant.settings.manage).")
    async def sign_in_policy(self, info: Info) -> SignInPolicy:
        return SignInPolicy.of(await policies.read_sign_in_policy(ctx_of(info)))

    @strawberry.field(description="Refused attempts, newest first (needs audit.read).")
    async def refused_attempts(self, info: Info, first: int | None = None, after: str | None = None,
                               last: int | None = None, before: str | None = None) -> Connection[RefusedAttempt]:
        request = page_request(info, "refusedAttempts", first, after, last, before)
        views, more = await refusals.refused_attempts_page(ctx_of(info), request.window(time_id_key))
        return keyset_connection(request, views, more, lambda v: [v.at.isoformat(), str(v.id)], RefusedAttempt.of)


@strawberry.type
class SignInMutation:
    @strawberry.mutation(description="A question to answer at the next sign-in, needed after repeated failed "
                                     "sign-ins of the username (single use, 5 minutes).")
    async def sign_in_challenge(self, info: Info, tenant: str, username: str) -> SignInChallengePayload:
        async def call() -> dict:
            challenge_id, question = await sessions.sign_in_challenge(ctx_of(info), tenant=tenant, username=username)
            return {"challenge_id": challenge_id, "question": question}
        return await mutate(info, SignInChallengePayload, call)

    @strawberry.mutation(description="Start enrolling your authenticator app: the secret and its URI, shown once.")
    async def totp_enrolment_start(self, info: Info) -> TotpEnrolmentPayload:
        async def call() -> dict:
            enrolment = await totp.totp_start(ctx_of(info))
            return {"secret": enrolment.secret, "uri": enrolment.uri}
        return await mutate(info, TotpEnrolmentPayload, call)

    @strawberry.mutation(description="Turn your second factor on with a code from the app; answers recovery codes once.")
    async def totp_enrolment_confirm(self, info: Info, code: str) -> TotpConfirmPayload:
        async def call() -> dict:
            return {"recovery_codes": await totp.totp_confirm(ctx_of(info), code)}
        return await mutate(info, TotpConfirmPayload, call)

    @strawberry.mutation(description="Turn your second factor off, proven by a code or a recovery code.")
    async def totp_disable(self, info: Info, code: str) -> OkPayload:
        async def call() -> dict:
            await totp.totp_disable(ctx_of(info), code)
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation(description="Turn a user's second factor off (a lost phone; needs user.manage).")
    async def totp_reset(self, info: Info, user_id: strawberry.ID) -> OkPayload:
        async def call() -> dict:
            await totp.totp_reset(ctx_of(info), parse_id(user_id, "user_id"))
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation(description="Report an account stolen or leaked: it is locked and its logins end; it opens "
                                     "again only by userPasswordReset. Without userId: your own; another's needs "
                                     "user.manage.")
    async def account_compromise_report(self, info: Info, user_id: strawberry.ID | None = None) -> OkPayload:
        async def call() -> dict:
            await sessions.report_account_compromise(ctx_of(info),
                                                     parse_id(user_id, "user_id") if user_id else None)
            return {"ok": True}
        return await mutate(info, OkPayload, call)

    @strawberry.mutation(description="Change the tenant's sign-in controls (needs tenant.settings.manage).")
    async def sign_in_policy_update(self, info: Info, input: SignInPolicyInput) -> SignInPolicyPayload:
        async def call() -> dict:
            return {"policy": SignInPolicy.of(await policies.update_sign_in_policy(ctx_of(info), _changes(input)))}
        return await mutate(info, SignInPolicyPayload, call)
