"""The registry's checks of what one vertical declared. Each returns the problems it found, in
words a plugin author can act on; an empty list means the vertical may load."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Protocol
from core.plugins.types import (
    ArchiveDocument,
    ArchiveStandard,
    AttributionPolicy,
    ComplaintFlow,
    CustomerField,
    DocumentFieldKind,
    FieldKind,
    Frequency,
    GradingScheme,
    GraphQLTypes,
    Parameter,
    ParameterInvalid,
    ParameterKind,
    Permission,
    PersonalDataTable,
    VerticalInfo,
    VisitPlan,
    order_violations,
)

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _duplicates(what: str, ids: Iterable[str]) -> list[str]:
    return [f"{what} {key!r} is declared twice" for key, count in Counter(ids).items() if count > 1]


def _named(what: str, key: str) -> list[str]:
    return [] if isinstance(key, str) and _KEY.match(key) else [
        f"{what} {key!r} must be lowercase letters, digits or underscores, starting with a letter"]


def check_parameters(parameters: Sequence[Parameter]) -> list[str]:
    problems = _duplicates("parameter", (p.key for p in parameters))
    for p in parameters:
        problems += _named("parameter", p.key)
        where = f"parameter {p.key!r}"
        if not p.help_en.strip() or not p.help_zh.strip():
            problems.append(f"{where} needs help text in zh-CN and en")
        numeric = p.kind in (ParameterKind.INTEGER, ParameterKind.DECIMAL)
        if not numeric and (p.minimum is not None or p.maximum is not None):
            problems.append(f"{where}: only integer and decimal parameters have bounds")
        if p.minimum is not None and p.maximum is not None and p.minimum > p.maximum:
            problems.append(f"{where}: minimum {p.minimum} is above maximum {p.maximum}")
            continue
        if p.kind is ParameterKind.CHOICE:
            if not p.choices:
                problems.append(f"{where}: a choice parameter needs choices")
            problems += _duplicates(f"{where}: choice", p.choices)
        elif p.choices:
            problems.append(f"{where}: only choice parameters have choices")
        try:
            p.check(p.default)
        except ParameterInvalid as error:
            problems.append(f"{where}: default {p.default!r} is invalid ({error.message_en})")
        numbers = {q.key: q.kind for q in parameters if q.kind in (ParameterKind.INTEGER, ParameterKind.DECIMAL)}
        for relation in ("at_most", "at_least"):
            other = getattr(p, relation)
            if other is None:
                continue
            if other == p.key:
                problems.append(f"{where}: {relation} names the parameter itself")
            elif p.kind not in numbers.values() or other not in numbers or p.key not in numbers:
                problems.append(f"{where}: {relation} {other!r} must name another integer or decimal parameter "
                                "of this vertical (and this one must be numeric)")
    defaults = {}
    for p in parameters:
        try:
            defaults[p.key] = p.check(p.default)
        except ParameterInvalid:
            pass
    for p, relation, other in order_violations(parameters, defaults):
        word = "above" if relation == "at_most" else "below"
        problems.append(f"parameter {p.key!r}: default {defaults[p.key]} is {word} the default of {other!r} "
                        f"({defaults[other]}), against its {relation}")
    return problems


# Core's customer kinds and statuses (core/customers/validation.py), repeated here because the
# contract module must not import core's services; a test keeps them equal.
CUSTOMER_KINDS = ("person", "organisation")
CUSTOMER_STATUSES = ("potential", "active", "dormant", "lost", "terminated")


def check_customer_fields(fields: Sequence[CustomerField]) -> list[str]:
    problems = _duplicates("customer field", (f.name for f in fields))
    for f in fields:
        problems += _named("customer field", f.name)
        where = f"customer field {f.name!r}"
        if not f.label_en.strip() or not f.label_zh.strip():
            problems.append(f"{where} needs labels in zh-CN and en")
        if f.kind is FieldKind.CHOICE and not f.choices:
            problems.append(f"{where}: a choice field needs choices")
        if f.kind is not FieldKind.CHOICE and f.choices:
            problems.append(f"{where}: only choice fields have choices")
        if f.kind is not FieldKind.TEXT and (f.pattern is not None or f.max_length is not None):
            problems.append(f"{where}: pattern and max_length apply to text fields only")
        if f.max_length is not None and f.max_length < 1:
            problems.append(f"{where}: max_length must be positive")
        if f.pattern is not None:
            try:
                re.compile(f.pattern)
            except re.error as error:
                problems.append(f"{where}: pattern does not compile ({error})")
        if (f.required_kinds or f.required_statuses) and not f.required:
            problems.append(f"{where}: required_kinds and required_statuses narrow a required field; set required")
        problems += [f"{where}: unknown customer kind {k!r}" for k in f.required_kinds if k not in CUSTOMER_KINDS]
        problems += [f"{where}: unknown customer status {s!r}" for s in f.required_statuses
                     if s not in CUSTOMER_STATUSES]
    return problems


def _document_fields(where: str, document: ArchiveDocument) -> list[str]:
    problems = _duplicates(f"{where}: field", (f.name for f in document.fields))
    for f in document.fields:
        problems += _named(f"{where}: field", f.name)
        if not f.label_en.strip() or not f.label_zh.strip():
            problems.append(f"{where}: field {f.name!r} needs labels in zh-CN and en")
        if (f.kind is DocumentFieldKind.MEASURE) != bool(f.unit):
            problems.append(f"{where}: field {f.name!r}: a measure field, and only one, names its unit")
        if (f.kind is DocumentFieldKind.CHOICE) != bool(f.choices):
            problems.append(f"{where}: field {f.name!r}: a choice field, and only one, lists its choices")
        problems += _duplicates(f"{where}: field {f.name!r}: choice", f.choices)
    for what, names in (("signature role", document.signatures), ("seal", document.seals)):
        problems += _duplicates(f"{where}: {what}", names)
        problems += [f"{where}: {what} {n!r} is blank" for n in names if not isinstance(n, str) or not n.strip()]
    return problems


def check_archive_standards(standards: Sequence[ArchiveStandard], parameters: Sequence[Parameter]) -> list[str]:
    problems = _duplicates("archive type", (s.id for s in standards))
    integer_parameters = {p.key for p in parameters if p.kind is ParameterKind.INTEGER}
    for s in standards:
        problems += _named("archive type", s.id)
        where = f"archive type {s.id!r}"
        if not s.documents:
            problems.append(f"{where} lists no documents")
        problems += _duplicates(f"{where}: document", (d.code for d in s.documents))
        problems += _duplicates(f"{where}: check", (c.code for c in s.checks))
        for d in s.documents:
            problems += _document_fields(f"{where}: document {d.code!r}", d)
        hours = s.rectification_hours_parameter
        if hours is not None and hours not in {p.key for p in parameters
                                               if p.kind in (ParameterKind.INTEGER, ParameterKind.DECIMAL)}:
            problems.append(f"{where}: rectification_hours_parameter {hours!r} is not a numeric parameter "
                            "of this vertical")
        problems += _named(f"{where}: subject", s.subject)
        problems += [f"{where}: check {c.code!r} has a policy that is not callable"
                     for c in s.checks if c.check is not None and not callable(c.check)]
        schedule = s.submission
        if schedule is not None:
            if schedule.frequency is Frequency.WEEKLY and schedule.weekday not in range(1, 8):
                problems.append(f"{where}: a weekly submission needs a weekday from 1 (Monday) to 7")
            if schedule.frequency is Frequency.MONTHLY and schedule.day_of_month not in range(1, 29):
                problems.append(f"{where}: a monthly submission needs a day of month from 1 to 28")
            for label, name in (("weekday_parameter", schedule.weekday_parameter),
                                ("hour_parameter", schedule.hour_parameter),
                                ("collection_hour_parameter", schedule.collection_hour_parameter)):
                if name is not None and name not in integer_parameters:
                    problems.append(f"{where}: submission {label} {name!r} is not an integer parameter of this vertical")
        problems += _duplicates(f"{where}: retention rule", (r.code for r in s.retention))
        for rule in s.retention:
            if not isinstance(rule.years, int) or rule.years <= 0:
                problems.append(f"{where}: retention rule {rule.code!r} keeps for {rule.years} years; "
                                "the period must be positive")
            if rule.parameter is not None and rule.parameter not in integer_parameters:
                problems.append(f"{where}: retention rule {rule.code!r} names {rule.parameter!r}, "
                                "which is not an integer parameter of this vertical")
            if rule.idle_years_parameter is not None and rule.idle_years_parameter not in integer_parameters:
                problems.append(f"{where}: retention rule {rule.code!r} names {rule.idle_years_parameter!r}, "
                                "which is not an integer parameter of this vertical")
    return problems


def check_attribution_policies(policies: Sequence[AttributionPolicy]) -> list[str]:
    problems = _duplicates("attribution policy", (p.id for p in policies))
    for p in policies:
        problems += _named("attribution policy", p.id)
        if not callable(p.decide):
            problems.append(f"attribution policy {p.id!r}: decide is not callable")
    return problems


def check_grading_schemes(schemes: Sequence[GradingScheme]) -> list[str]:
    problems = _duplicates("grading scheme", (s.id for s in schemes))
    for s in schemes:
        problems += _named("grading scheme", s.id)
        where = f"grading scheme {s.id!r}"
        if len(s.grades) < 2:
            problems.append(f"{where} needs at least two grades")
        problems += _duplicates(f"{where}: grade", (g.code for g in s.grades))
        ranks = [g.rank for g in s.grades]
        if any(later <= earlier for earlier, later in zip(ranks, ranks[1:])):
            problems.append(f"{where}: grades must be listed best first with strictly increasing ranks, got {ranks}")
        for g in s.grades:
            if g.cap_percent is not None and not 0 < g.cap_percent <= 100:
                problems.append(f"{where}: grade {g.code!r} caps at {g.cap_percent}%; a cap lies in (0, 100]")
        if s.review_cycle_days is not None and s.review_cycle_days <= 0:
            problems.append(f"{where}: the review cycle must be a positive number of days")
        if s.blacklist_days is not None and s.blacklist_days <= 0:
            problems.append(f"{where}: a blacklist must last a positive number of days")
        if s.blacklist_days is not None and not s.blacklist_scopes:
            problems.append(f"{where}: a blacklist duration needs at least one blacklist scope")
        if s.score is not None and not callable(s.score):
            problems.append(f"{where}: score is not callable")
    return problems


def _reaching(targets: set[str], edges: dict[str, set[str]]) -> set[str]:
    """The states from which one of ``targets`` can be reached (following ``edges`` backwards)."""
    reverse: dict[str, set[str]] = {}
    for source, destinations in edges.items():
        for destination in destinations:
            reverse.setdefault(destination, set()).add(source)
    seen, frontier = set(targets), list(targets)
    while frontier:
        for previous in reverse.get(frontier.pop(), ()):
            if previous not in seen:
                seen.add(previous)
                frontier.append(previous)
    return seen


def check_complaint_flows(flows: Sequence[ComplaintFlow], permissions: Sequence[str] = ()) -> list[str]:
    """``permissions``: the names of the vertical's own permissions; an escalation notifies one of
    them or a role of its flow."""
    problems = _duplicates("complaint flow", (f.id for f in flows))
    for f in flows:
        problems += _named("complaint flow", f.id)
        where = f"complaint flow {f.id!r}"
        codes = [s.code for s in f.states]
        known = set(codes)
        problems += _duplicates(f"{where}: state", codes)
        if not f.categories:
            problems.append(f"{where} has no categories")
        if not f.severities:
            problems.append(f"{where} has no severities")
        problems += _duplicates(f"{where}: category", f.categories)
        problems += _duplicates(f"{where}: severity", f.severities)
        if f.initial not in known:
            problems.append(f"{where}: initial state {f.initial!r} is not one of its states")
        terminal = {s.code for s in f.states if s.terminal}
        if not terminal:
            problems.append(f"{where} has no terminal state")
        edges: dict[str, set[str]] = {}
        for t in f.transitions:
            unknown = [state for state in (t.source, t.target) if state not in known]
            if unknown:
                problems.append(f"{where}: transition {t.action!r} uses unknown state {unknown[0]!r}")
                continue
            if t.source in terminal:
                problems.append(f"{where}: terminal state {t.source!r} has a way out ({t.action!r})")
            edges.setdefault(t.source, set()).add(t.target)
        problems += _duplicates(f"{where}: action from a state",
                                (f"{t.source}.{t.action}" for t in f.transitions))
        if terminal:
            stuck = [code for code in codes if code not in _reaching(terminal, edges)]
            problems += [f"{where}: state {code!r} has no way to a terminal state" for code in stuck]
        if f.initial in known:
            reached = {f.initial}
            frontier = [f.initial]
            while frontier:
                for nxt in edges.get(frontier.pop(), ()):
                    if nxt not in reached:
                        reached.add(nxt)
                        frontier.append(nxt)
            problems += [f"{where}: state {code!r} cannot be reached from {f.initial!r}"
                         for code in codes if code not in reached]
        severities = set(f.severities)
        problems += _duplicates(f"{where}: deadline for severity", (d.severity for d in f.deadlines))
        for d in f.deadlines:
            if d.severity not in severities:
                problems.append(f"{where}: deadline for unknown severity {d.severity!r}")
            if not isinstance(d.amount, int) or d.amount <= 0:
                problems.append(f"{where}: deadline for {d.severity!r} must be a positive whole number")
        roles = [r.code for r in getattr(f, "roles", ())]  # a ComplaintFlowDefinition's roles
        for step in f.escalations:
            if step.severity not in severities:
                problems.append(f"{where}: escalation for unknown severity {step.severity!r}")
            if not isinstance(step.after_percent, int) or not 0 < step.after_percent <= 100:
                problems.append(f"{where}: escalation after {step.after_percent}% of the deadline; use 1 to 100")
            if step.notify not in permissions and step.notify not in roles:
                declared = ", ".join([*permissions, *roles]) or "none"
                problems.append(f"{where}: escalation for {step.severity!r} notifies {step.notify!r}, which is not "
                                f"a permission this vertical declares nor a role of the flow (declared: {declared})")
    return problems


def check_visit_plans(plans: Sequence[VisitPlan], schemes: Sequence[GradingScheme]) -> list[str]:
    problems = _duplicates("visit plan", (p.id for p in plans))
    grades = {s.id: {g.code for g in s.grades} for s in schemes}
    for p in plans:
        problems += _named("visit plan", p.id)
        where = f"visit plan {p.id!r}"
        if not isinstance(p.every_days, int) or p.every_days <= 0:
            problems.append(f"{where}: visits must be a positive number of days apart")
        if p.grading_scheme is not None:
            if p.grading_scheme not in grades:
                problems.append(f"{where}: grading scheme {p.grading_scheme!r} is not declared by this vertical")
            elif p.segment not in grades[p.grading_scheme]:
                problems.append(f"{where}: {p.segment!r} is not a grade of {p.grading_scheme!r}")
    return problems


def check_graphql(vertical_id: str, contributions: Sequence[GraphQLTypes]) -> list[str]:
    problems: list[str] = []
    names: list[str] = []
    for contribution in contributions:
        for root, kind in ((contribution.query, "query"), (contribution.mutation, "mutation")):
            if root is None:
                continue
            definition = getattr(root, "__strawberry_definition__", None)
            if definition is None:
                problems.append(f"GraphQL {kind} {root!r} is not a Strawberry type")
                continue
            for field in definition.fields:
                names.append(f"{kind} {field.python_name}")
                if not field.python_name.startswith(f"{vertical_id}_"):
                    problems.append(f"GraphQL {kind} field {field.python_name!r} must start with {vertical_id + '_'!r}")
    problems += _duplicates("GraphQL", names)
    return problems


def check_personal_data(vertical_id: str, tables: Sequence[PersonalDataTable]) -> list[str]:
    problems = _duplicates("personal data table", (t.table for t in tables))
    for t in tables:
        where = f"personal data table {t.table!r}"
        if not t.table.startswith(f"{vertical_id}_"):  # a plugin may not have core erase core's tables
            problems.append(f"{where} must start with {vertical_id + '_'!r}")
        if not t.columns:
            problems.append(f"{where} lists no personal columns")
        if t.customer_column in t.columns:
            problems.append(f"{where}: the customer column {t.customer_column!r} cannot be a personal column")
        problems += _duplicates(f"{where}: column", t.columns)
    return problems


class Declared(Protocol):
    """What one vertical declared (``core.plugins.manager.VerticalDefinition``); named by its
    shape so this module never imports the manager, which imports it."""

    info: VerticalInfo
    permissions: Sequence[Permission]
    parameters: Sequence[Parameter]
    customer_fields: Sequence[CustomerField]
    archive_standards: Sequence[ArchiveStandard]
    attribution_policies: Sequence[AttributionPolicy]
    grading_schemes: Sequence[GradingScheme]
    complaint_flows: Sequence[ComplaintFlow]
    visit_plans: Sequence[VisitPlan]
    graphql: Sequence[GraphQLTypes]
    personal_data: Sequence[PersonalDataTable]


def check_vertical(definition: Declared) -> list[str]:
    """Every problem in what one vertical declared."""
    d = definition
    return [
        *check_parameters(d.parameters),
        *check_customer_fields(d.customer_fields),
        *check_archive_standards(d.archive_standards, d.parameters),
        *check_attribution_policies(d.attribution_policies),
        *check_grading_schemes(d.grading_schemes),
        *check_complaint_flows(d.complaint_flows, [p.name for p in d.permissions]),
        *check_visit_plans(d.visit_plans, d.grading_schemes),
        *check_graphql(d.info.id, d.graphql),
        *check_personal_data(d.info.id, d.personal_data),
    ]
