"""GraphQL for customer records. Resolvers are thin: every rule lives in core.customers; related
records (owner, contacts) come through DataLoaders, so a page costs the same few queries at any size.

Personal fields (phones, emails, identifier number, street, credit, personal extension fields,
contacts' phones and email) are always masked here through core.privacy.masking, whoever asks;
a holder of customer.pii.unmask reads values in clear with customerUnmask, which is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from core.customers import merging, timeline
from core.customers import service as customers
from core.plugins.types import CustomerField
from core.jobs import service as job_service
from core.privacy import masking, rekey
from gateway.graphql.common import (
    Connection,
    Node,
    UserError,
    ctx_of,
    keyset_connection,
    list_connection,
    mutate,
    node_loader,
    page_request,
    parse_id,
)
from gateway.graphql.jobs import Job, JobPayload
from gateway.graphql.loaders import loader


@strawberry.type
class Identifier:
    type: str
    number: str


@strawberry.type
class Address:
    province: str | None = None
    city: str | None = None
    county: str | None = None
    street: str | None = None
    house_number: str | None = None
    village: str | None = None


@strawberry.type(description="Who owns a customer.")
class CustomerOwner:
    id: strawberry.ID
    username: str
    display_name: str


@strawberry.type
class Contact:
    id: strawberry.ID
    surname: str
    given_name: str
    position: str
    phones: list[str]
    email: str | None
    is_primary: bool

    @classmethod
    def of(cls, view: customers.ContactView) -> Contact:
        phones, email = masking.mask_contact(view.phones, view.email)
        return cls(id=strawberry.ID(str(view.id)), surname=view.surname, given_name=view.given_name,
                   position=view.position, phones=phones, email=email, is_primary=view.is_primary)


def _masked_contact(view: customers.ContactView) -> customers.ContactView:
    """The core view with its phones and email masked (pages serve core views as Contact)."""
    phones, email = masking.mask_contact(view.phones, view.email)
    # built directly: dataclasses.replace inspects the fields on every call (a page has 200 contacts)
    return customers.ContactView(id=view.id, customer_id=view.customer_id, surname=view.surname,
                                 given_name=view.given_name, position=view.position, phones=tuple(phones),
                                 email=email, is_primary=view.is_primary)


Schema = Mapping[str, Mapping[str, CustomerField]]


def schema_of(info: Info) -> Schema:
    """The extension fields' declarations (their privacy classes), once per request."""
    loaders = info.context.loaders
    if "customer.schema" not in loaders:
        loaders["customer.schema"] = customers.extension_schema(info.context.registry)
    return loaders["customer.schema"]


async def _contacts(info: Info, ids: list[UUID]) -> dict[UUID, list[customers.ContactView]]:
    return await customers.contacts_of(ctx_of(info), ids)


async def _owners(info: Info, ids: list[UUID]) -> dict[UUID, customers.OwnerView]:
    return await customers.owners_of(ctx_of(info), ids)


@strawberry.type(description="A customer (person or organisation) of the caller's tenant.")
class Customer(Node):
    id: strawberry.ID
    version: int = strawberry.field(description="Send it back with customerUpdate; a stale one is refused.")
    kind: str = strawberry.field(description="person | organisation")
    status: str = strawberry.field(description="potential | active | dormant | lost | terminated")
    display_name: str
    surname: str | None
    given_name: str | None
    org_name: str | None
    legal_representative: str | None
    identifier: Identifier | None
    phones: list[str]
    emails: list[str]
    address: Address | None
    tags: list[str]
    source_channel: str | None
    is_key: bool
    access_level: int = strawberry.field(description="Read only by users cleared to this level; 0: everyone (CSM-20)")
    business: JSON
    needs: JSON
    credit: JSON
    other: JSON
    extensions: JSON = strawberry.field(description="{vertical: {field: value}} of the verticals' extension fields")
    department_id: strawberry.ID | None
    created_at: datetime
    updated_at: datetime
    review_due_at: datetime | None
    last_reviewed_at: datetime | None
    last_reviewed_by: str | None
    created_by: str = strawberry.field(description="Who recorded it: the collector (seed-004 §2.1.3), user:<id>")
    owner_id: strawberry.Private[UUID | None]
    customer_id: strawberry.Private[UUID]

    @classmethod
    def of(cls, view: customers.CustomerView, schema: Schema) -> Customer:
        record = masking.mask_record(view.record, schema)
        ident = record.get("identifier")
        return cls(id=strawberry.ID(str(view.id)), version=view.version, kind=view.kind, status=view.status,
                   display_name=view.display_name, surname=record.get("surname"), given_name=record.get("given_name"),
                   org_name=record.get("org_name"), legal_representative=record.get("legal_representative"),
                   identifier=Identifier(type=ident["type"], number=ident["number"]) if ident else None,
                   phones=record.get("phones", []), emails=record.get("emails", []),
                   address=Address(**record["address"]) if record.get("address") else None,
                   tags=record.get("tags", []), source_channel=record.get("source_channel"),
                   is_key=bool(record.get("is_key")), access_level=int(record.get("access_level") or 0),
                   business=record.get("business", {}),
                   needs=record.get("needs", {}), credit=record.get("credit", {}), other=record.get("other", {}),
                   # only loaded verticals' fields: a blocked plugin's are kept, hidden, never masked blind
                   extensions={k: f for k, f in record.get("extensions", {}).items() if k in schema},
                   department_id=strawberry.ID(record["department_id"]) if record.get("department_id") else None,
                   created_at=view.created_at, updated_at=view.updated_at, review_due_at=view.review_due_at,
                   last_reviewed_at=view.last_reviewed_at, last_reviewed_by=view.last_reviewed_by,
                   created_by=view.created_by, owner_id=view.owner_id, customer_id=view.id)

    # Filled by the resolver that returns the customer, for a whole page at once (one query each)
    # or through the request's DataLoaders; as plain fields they resolve without a call per row.
    owner: CustomerOwner | None = None
    contacts: list[Contact] = strawberry.field(default_factory=list)


def _owner(view: customers.OwnerView | None) -> CustomerOwner | None:
    return None if view is None else CustomerOwner(id=strawberry.ID(str(view.id)), username=view.username,
                                                   display_name=view.display_name)


async def customer_node(info: Info, view: customers.CustomerView) -> Customer:
    """A customer with its owner and contacts if the query asks for them, through the request's
    DataLoaders (two customers in one document share one query for each)."""
    node = Customer.of(view, schema_of(info))
    if _selects(info, "contacts"):
        found = await loader(info, "customer.contacts", lambda ids: _contacts(info, ids), default=[]).load(view.id)
        node.contacts = [Contact.of(c) for c in found]
    if view.owner_id is not None and _selects(info, "owner"):
        node.owner = _owner(await loader(info, "customer.owner", lambda ids: _owners(info, ids)).load(view.owner_id))
    return node


def _selects(info: Info, name: str) -> bool:
    """Whether the query asks for field ``name`` anywhere below this one."""
    def walk(selections: list[Any]) -> bool:
        return any(getattr(s, "name", None) == name or walk(getattr(s, "selections", []) or [])
                   for s in selections)

    return walk(info.selected_fields)


@strawberry.type
class HistoryEntry:
    customer_id: strawberry.ID
    version: int
    changed_at: datetime
    actor: str
    reason: str
    changes: JSON = strawberry.field(description="{field: [old, new]}; dotted names for nested fields")


@strawberry.type(description="One entry of a customer's timeline: a change of its record (kind history) or an "
                               "event of a complaint naming it (kind complaint).")
class CustomerTimelineEntry:
    at: datetime
    kind: str = strawberry.field(description="history | complaint")
    customer_id: strawberry.ID
    actor: str
    history: HistoryEntry | None = strawberry.field(description="kind history: the change (masked)")
    complaint_id: strawberry.ID | None = strawberry.field(description="kind complaint: the case")
    complaint_number: str | None
    vertical: str | None
    flow: str | None
    event: str | None = strawberry.field(description="opened | transitioned | assigned | breached | escalated")
    action: str | None
    from_state: str | None
    to_state: str | None
    subject: str | None


@strawberry.type
class CustomerSnapshot:
    version: int
    record: JSON


@strawberry.type
class DuplicateMatch:
    customer_id: strawberry.ID
    display_name: str
    matched_on: list[str]


@strawberry.type
class Merge:
    id: strawberry.ID
    survivor_id: strawberry.ID
    merged_id: strawberry.ID
    moved: JSON
    reason: str
    actor: str
    created_at: datetime
    undo_until: datetime
    undone_at: datetime | None

    @classmethod
    def of(cls, view: merging.MergeView) -> Merge:
        return cls(id=strawberry.ID(str(view.id)), survivor_id=strawberry.ID(str(view.survivor_id)),
                   merged_id=strawberry.ID(str(view.merged_id)), moved=view.moved, reason=view.reason,
                   actor=view.actor, created_at=view.created_at, undo_until=view.undo_until,
                   undone_at=view.undone_at)


@strawberry.input
class AddressInput:
    province: str | None = None
    city: str | None = None
    county: str | None = None
    street: str | None = None
    house_number: str | None = None
    village: str | None = None


@strawberry.input
class IdentifierInput:
    type: str
    number: str


@strawberry.input(description="Fields of a customer. On update, fields left out keep their value and null clears one.")
class CustomerInput:
    kind: str | None = strawberry.UNSET
    status: str | None = strawberry.UNSET
    surname: str | None = strawberry.UNSET
    given_name: str | None = strawberry.UNSET
    org_name: str | None = strawberry.UNSET
    legal_representative: str | None = strawberry.UNSET
    identifier: IdentifierInput | None = strawberry.UNSET
    phones: list[str] | None = strawberry.UNSET
    emails: list[str] | None = strawberry.UNSET
    address: AddressInput | None = strawberry.UNSET
    owner_id: strawberry.ID | None = strawberry.UNSET
    department_id: strawberry.ID | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    source_channel: str | None = strawberry.UNSET
    is_key: bool | None = strawberry.UNSET
    access_level: int | None = strawberry.UNSET
    business: JSON | None = strawberry.UNSET
    needs: JSON | None = strawberry.UNSET
    credit: JSON | None = strawberry.UNSET
    other: JSON | None = strawberry.UNSET
    extensions: JSON | None = strawberry.UNSET

    def fields(self) -> dict[str, Any]:
        given: dict[str, Any] = {}
        for name in ("kind", "status", "surname", "given_name", "org_name", "legal_representative", "phones",
                     "emails", "owner_id", "department_id", "tags", "source_channel", "is_key", "access_level",
                     "business", "needs", "credit", "other", "extensions"):
            value = getattr(self, name)
            if value is not strawberry.UNSET:
                given[name] = str(value) if name.endswith("_id") and value is not None else value
        if self.identifier is not strawberry.UNSET:
            given["identifier"] = None if self.identifier is None else {"type": self.identifier.type,
                                                                        "number": self.identifier.number}
        if self.address is not strawberry.UNSET:
            given["address"] = None if self.address is None else {
                k: v for k, v in vars(self.address).items() if v is not None}
        return given


@strawberry.input
class ContactInput:
    surname: str
    given_name: str
    position: str = ""
    phones: list[str] = strawberry.field(default_factory=list)
    email: str | None = None
    is_primary: bool = False

    def to_core(self) -> customers.ContactInput:
        return customers.ContactInput(surname=self.surname, given_name=self.given_name, position=self.position,
                                      phones=tuple(self.phones), email=self.email, is_primary=self.is_primary)


@strawberry.input
class ExtensionFilterInput:
    vertical: str
    field: str
    value: JSON


@strawberry.input
class CustomerFilterInput:
    status: str | None = None
    kind: str | None = None
    owner_id: strawberry.ID | None = None
    department_id: strawberry.ID | None = None
    tag: str | None = None
    text: str | None = strawberry.field(default=None, description="part of the name or phone number")
    review_due: bool | None = None
    extension: ExtensionFilterInput | None = None

    def to_core(self) -> customers.CustomerFilter:
        return customers.CustomerFilter(
            status=self.status, kind=self.kind, tag=self.tag, text=self.text, review_due=self.review_due,
            owner_id=parse_id(self.owner_id, "ownerId") if self.owner_id else None,
            department_id=parse_id(self.department_id, "departmentId") if self.department_id else None,
            extension=(self.extension.vertical, self.extension.field, self.extension.value) if self.extension else None)


@strawberry.input
class CustomerRulesInput:
    key_customer_min_contacts: int | None = None
    review_months: int | None = None
    merge_undo_days: int | None = None


@strawberry.type
class CustomerRules:
    key_customer_min_contacts: int
    review_months: int
    merge_undo_days: int


@strawberry.type
class CustomerCreatePayload:
    customer: Customer | None = None
    duplicates: list[DuplicateMatch] = strawberry.field(default_factory=list,
                                                        description="Likely duplicates (same phone, identifier, or name and address).")
    errors: list[UserError]


@strawberry.type
class CustomerPayload:
    customer: Customer | None = None
    errors: list[UserError]


@strawberry.type
class ContactPayload:
    contact: Contact | None = None
    errors: list[UserError]


@strawberry.type
class MergePayload:
    merge: Merge | None = None
    errors: list[UserError]


@strawberry.type
class CustomerRulesPayload:
    rules: CustomerRules | None = None
    errors: list[UserError]


@strawberry.type
class CustomerUnmaskPayload:
    values: JSON | None = strawberry.field(default=None, description="{field: clear value}; contacts' fields "
                                           "as {contact id: value}")
    errors: list[UserError]


@strawberry.type
class ContactRemovePayload:
    ok: bool = False
    errors: list[UserError]


def _sort_key(sort: str) -> Any:
    """A cursor's key checked for the sort it was given out for: (sort value, customer id)."""
    def parse(key: list[Any]) -> tuple[str, str]:
        value, last_id = key
        if sort != "name":
            datetime.fromisoformat(value)
        return str(value), str(UUID(last_id))
    return parse


def _history_key(key: list[Any]) -> tuple[datetime, int, UUID]:
    """The key of customerHistory: (changed_at, version, customer id)."""
    at, version, customer_id = key
    if not isinstance(version, int):
        raise ValueError("a version is a number")
    return datetime.fromisoformat(at), version, UUID(customer_id)


@node_loader("Customer")
async def _customer(info: Info, customer_id: UUID) -> Customer:
    return await customer_node(info, await customers.get_customer(ctx_of(info), customer_id))


@strawberry.type
class CustomerQuery:
    @strawberry.field(description="Customers the caller may read (its scope of customer.read), a page at a time.")
    async def customers(self, info: Info, filter: CustomerFilterInput | None = None, sort: str = "name",
                        first: int | None = None, after: str | None = None, last: int | None = None,
                        before: str | None = None) -> Connection[Customer]:
        # the sort is part of the list's name: a cursor of one order means nothing in another
        request = page_request(info, f"customers:{sort}", first, after, last, before)
        window = request.window(_sort_key(sort))
        page = await customers.customer_page(
            ctx_of(info), (filter or CustomerFilterInput()).to_core(), first=window.size, after=window.after,
            before=window.before, backward=window.backward, sort=sort, with_contacts=_selects(info, "contacts"),
            with_owners=_selects(info, "owner"))
        schema = schema_of(info)
        nodes = []
        for view in page.customers:
            node = Customer.of(view, schema)
            # Contact's fields are attributes of the core view, so the (masked) views are served as they are.
            node.contacts = [_masked_contact(c) for c in page.contacts.get(view.id, ())]
            node.owner = _owner(page.owners.get(view.owner_id)) if view.owner_id else None
            nodes.append((view, node))
        return keyset_connection(request, nodes, page.has_next, lambda pair: customers.cursor_of(pair[0], sort),
                                 lambda pair: pair[1])

    @strawberry.field
    async def customer(self, info: Info, id: strawberry.ID) -> Customer:
        return await _customer(info, parse_id(id, "id"))

    @strawberry.field(description="Every change of a customer, oldest first; with includeMerged also the "
                                  "history of customers merged into it.")
    async def customer_history(self, info: Info, id: strawberry.ID, include_merged: bool = False,
                               first: int | None = None, after: str | None = None, last: int | None = None,
                               before: str | None = None) -> Connection[HistoryEntry]:
        request = page_request(info, "customerHistory", first, after, last, before)
        entries, more = await customers.customer_history_page(ctx_of(info), parse_id(id, "id"),
                                                              request.window(_history_key),
                                                              include_merged=include_merged)
        schema = schema_of(info)

        def node(e: customers.HistoryEntry) -> HistoryEntry:
            return HistoryEntry(customer_id=strawberry.ID(str(e.customer_id)), version=e.version,
                                changed_at=e.changed_at, actor=e.actor, reason=e.reason,
                                changes=masking.mask_changes(e.changes, schema))
        return keyset_connection(request, entries, more, lambda e: [e.changed_at, e.version, e.customer_id], node)

    @strawberry.field(description="A customer's history and the events of the complaints naming it (of the flows "
                                  "the caller may read), oldest first; with includeMerged also those of customers "
                                  "merged into it. Paged in memory: one customer's entries.")
    async def customer_timeline(self, info: Info, id: strawberry.ID, include_merged: bool = False,
                                first: int | None = None, after: str | None = None, last: int | None = None,
                                before: str | None = None) -> Connection[CustomerTimelineEntry]:
        request = page_request(info, "customerTimeline", first, after, last, before)
        entries = await timeline.customer_timeline(ctx_of(info), info.context.registry, parse_id(id, "id"),
                                                   include_merged=include_merged)
        schema = schema_of(info)

        def node(e: timeline.TimelineEntry) -> CustomerTimelineEntry:
            h = e.history
            return CustomerTimelineEntry(
                at=e.at, kind=e.kind, customer_id=strawberry.ID(str(e.customer_id)), actor=e.actor,
                history=HistoryEntry(customer_id=strawberry.ID(str(h.customer_id)), version=h.version,
                                     changed_at=h.changed_at, actor=h.actor, reason=h.reason,
                                     changes=masking.mask_changes(h.changes, schema)) if h else None,
                complaint_id=strawberry.ID(str(e.complaint_id)) if e.complaint_id else None,
                complaint_number=e.complaint_number, vertical=e.vertical, flow=e.flow, event=e.event, action=e.action,
                from_state=e.from_state, to_state=e.to_state, subject=e.subject)
        # A cursor is the entry's place in the timeline and its moment: if entries came before it meanwhile,
        # the moment no longer matches and the cursor is refused (start again), never a skipped entry.
        return list_connection(request, list(enumerate(entries)), lambda pair: [pair[0], pair[1].at, pair[1].kind],
                               lambda pair: node(pair[1]))

    @strawberry.field(description="A customer as it was at a past moment, rebuilt from its history.")
    async def customer_as_of(self, info: Info, id: strawberry.ID, at: datetime) -> CustomerSnapshot:
        version, record = await customers.customer_as_of(ctx_of(info), parse_id(id, "id"), at)
        return CustomerSnapshot(version=version, record=masking.mask_record(record, schema_of(info)))

    @strawberry.field(description="Merges into and out of a customer, newest first.")
    async def customer_merges(self, info: Info, id: strawberry.ID, first: int | None = None, after: str | None = None,
                              last: int | None = None, before: str | None = None) -> Connection[Merge]:
        request = page_request(info, "customerMerges", first, after, last, before)
        return list_connection(request, await merging.merges_of(ctx_of(info), parse_id(id, "id")),
                               lambda m: [m.id], Merge.of)


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(description="Create a customer. An exact identifier match is refused unless force is "
                                     "given with customer.duplicate.force.")
    async def customer_create(self, info: Info, input: CustomerInput, contacts: list[ContactInput] | None = None,
                              force: bool = False) -> CustomerCreatePayload:
        async def call() -> dict:
            created = await customers.create_customer(ctx_of(info), info.context.registry, input.fields(),
                                                      contacts=[c.to_core() for c in contacts or ()], force=force)
            return {"customer": await customer_node(info, created.customer),
                    "duplicates": [DuplicateMatch(customer_id=strawberry.ID(str(d.customer_id)),
                                                  display_name=d.display_name, matched_on=list(d.matched_on))
                                   for d in created.duplicates]}
        return await mutate(info, CustomerCreatePayload, call)

    @strawberry.mutation(description="Change fields; version is the one you read; key fields need a reason.")
    async def customer_update(self, info: Info, id: strawberry.ID, version: int, input: CustomerInput,
                              reason: str = "") -> CustomerPayload:
        async def call() -> dict:
            return {"customer": await customer_node(info, await customers.update_customer(
                ctx_of(info), info.context.registry, parse_id(id, "id"), version=version, changes=input.fields(),
                reason=reason))}
        return await mutate(info, CustomerPayload, call)

    @strawberry.mutation(description="Hand a customer over to another user (needs customer.transfer).")
    async def customer_transfer(self, info: Info, id: strawberry.ID, to_user_id: strawberry.ID,
                                reason: str) -> CustomerPayload:
        async def call() -> dict:
            return {"customer": await customer_node(info, await customers.transfer_customer(
                ctx_of(info), parse_id(id, "id"), to_user_id=parse_id(to_user_id, "toUserId"), reason=reason))}
        return await mutate(info, CustomerPayload, call)

    @strawberry.mutation(description="Record the periodic review of a customer (needs customer.review).")
    async def customer_review(self, info: Info, id: strawberry.ID, note: str = "") -> CustomerPayload:
        async def call() -> dict:
            view = await customers.review_customer(ctx_of(info), parse_id(id, "id"), note=note)
            return {"customer": await customer_node(info, view)}
        return await mutate(info, CustomerPayload, call)

    @strawberry.mutation(description="Hide a customer from normal queries (erasure is a privacy request).")
    async def customer_delete(self, info: Info, id: strawberry.ID, reason: str) -> CustomerPayload:
        async def call() -> dict:
            view = await customers.delete_customer(ctx_of(info), parse_id(id, "id"), reason=reason)
            return {"customer": await customer_node(info, view)}
        return await mutate(info, CustomerPayload, call)

    @strawberry.mutation(description="Merge a duplicate into a survivor (needs customer.merge).")
    async def customer_merge(self, info: Info, survivor_id: strawberry.ID, merged_id: strawberry.ID,
                             reason: str) -> MergePayload:
        async def call() -> dict:
            return {"merge": Merge.of(await merging.merge_customers(
                ctx_of(info), survivor_id=parse_id(survivor_id, "survivorId"),
                merged_id=parse_id(merged_id, "mergedId"), reason=reason))}
        return await mutate(info, MergePayload, call)

    @strawberry.mutation(description="Undo a merge within the tenant's window.")
    async def customer_unmerge(self, info: Info, merge_id: strawberry.ID) -> MergePayload:
        async def call() -> dict:
            return {"merge": Merge.of(await merging.unmerge_customers(ctx_of(info), parse_id(merge_id, "mergeId")))}
        return await mutate(info, MergePayload, call)

    @strawberry.mutation
    async def customer_contact_add(self, info: Info, customer_id: strawberry.ID, input: ContactInput) -> ContactPayload:
        async def call() -> dict:
            return {"contact": Contact.of(await customers.add_contact(ctx_of(info), parse_id(customer_id, "customerId"),
                                                                      input.to_core()))}
        return await mutate(info, ContactPayload, call)

    @strawberry.mutation
    async def customer_contact_remove(self, info: Info, id: strawberry.ID) -> ContactRemovePayload:
        async def call() -> dict:
            await customers.remove_contact(ctx_of(info), parse_id(id, "id"))
            return {"ok": True}
        return await mutate(info, ContactRemovePayload, call)

    @strawberry.mutation(description="Read personal fields of a customer in clear (needs customer.pii.unmask and "
                                     "a reason of at least 5 characters; audited with the field names, never "
                                     "the values). Fields: phones, emails, identifier.number, address.street, "
                                     "credit, extensions.<vertical>.<field>, contacts.phones, contacts.email …")
    async def customer_unmask(self, info: Info, id: strawberry.ID, fields: list[str],
                              reason: str) -> CustomerUnmaskPayload:
        async def call() -> dict:
            return {"values": await customers.unmask_customer(ctx_of(info), info.context.registry,
                                                              parse_id(id, "id"), fields, reason)}
        return await mutate(info, CustomerUnmaskPayload, call)

    @strawberry.mutation(description="Re-encrypt the tenant's personal data under the active data key, in a "
                                     "background job (after a key rotation; needs privacy.keys.manage).")
    async def privacy_rekey_start(self, info: Info) -> JobPayload:
        async def call() -> dict:
            ctx = ctx_of(info)
            job_id = await rekey.start_rekey(ctx)
            return {"job": Job.of(await job_service.get_job(ctx, job_id))}
        return await mutate(info, JobPayload, call)

    @strawberry.mutation(description="Tenant rules for customers (needs tenant.settings.manage).")
    async def customer_rules_update(self, info: Info, input: CustomerRulesInput) -> CustomerRulesPayload:
        async def call() -> dict:
            changes = {k: v for k, v in vars(input).items() if v is not None}
            return {"rules": CustomerRules(**await customers.update_customer_rules(ctx_of(info), changes))}
        return await mutate(info, CustomerRulesPayload, call)
