"""Typed, frozen definitions that hooks return.

Each definition checks its own shape when built (a wrong enum value, a malformed time) and raises
``ContractError``; everything that needs the whole picture (unique ids, reachable states, defaults
within bounds, ordered scales) is checked by the registry (``core.plugins.validation``), which
names the plugin in its message. Lists given by a plugin are stored as tuples, so nothing a
registry holds can change after start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from core.errors import KehuError

_ID = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?([a-z0-9.+-]*)$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

ParameterValue = int | float | Decimal | bool | str
_DECIMAL_TEXT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
DECIMAL_MAX_DIGITS = 28


def exact_decimal(value: object) -> Decimal | None:
    """``value`` as an exact ``Decimal``, or None when it is no finite decimal number: a ``Decimal``,
    an integer, a decimal string (``"1234.56"``, no exponent) or a float (taken as the number its
    shortest repr shows, ``0.1`` -> ``Decimal("0.1")``, never its binary approximation)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value)) if value == value and value not in (float("inf"), float("-inf")) else None
    elif isinstance(value, str) and _DECIMAL_TEXT.match(value.strip()):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
            return None
    else:
        return None
    if number is None or not number.is_finite() or len(number.as_tuple().digits) > DECIMAL_MAX_DIGITS:
        return None
    return number


def decimal_text(number: Decimal) -> str:
    """How kehu stores a decimal: its plain text, never a float (``Decimal("1E+3")`` -> ``"1000"``)."""
    return format(number, "f")


class PluginError(KehuError):
    """A plugin broke the contract; kehu refuses to start with it (or skips it, if so configured)."""

    def __init__(self, plugin: str, problem: str) -> None:
        super().__init__("PLUGIN_INVALID", f"plugin {plugin!r}: {problem}", f"插件 {plugin!r}：{problem}")
        self.plugin = plugin
        self.problem = problem


class ContractError(ValueError):
    """A definition is malformed. Raised while a hook builds it; the registry adds the plugin's name."""


def _frozen(instance: object, **values: object) -> None:
    for name, value in values.items():
        object.__setattr__(instance, name, value)


def _strings(value: object, what: str) -> tuple[str, ...]:
    """A tuple of strings from a list or tuple; a plain string is refused with a clear message (it
    would otherwise be read letter by letter: ``categories="general"`` as g, e, n, e, r, a, l)."""
    if isinstance(value, str):
        raise ContractError(f"{what} must be a tuple of strings, not the string {value!r} "
                            f"(write ({value!r},) for one)")
    items = _sequence(value, what)
    wrong = next((item for item in items if not isinstance(item, str)), None)
    if wrong is not None:
        raise ContractError(f"{what} must be a tuple of strings; {wrong!r} is a {type(wrong).__name__}")
    return items


def _sequence(value: object, what: str) -> tuple[Any, ...]:
    """A tuple from a list or tuple; one definition or a string where several are expected is
    refused with a clear message."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable) or _dataclass_like(value):
        raise ContractError(f"{what} must be a tuple (or list), not {type(value).__name__} {value!r}"[:300])
    return tuple(value)


def _dataclass_like(value: object) -> bool:
    return hasattr(type(value), "__dataclass_fields__")


def _enum(enum: type[StrEnum], value: object, what: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        raise ContractError(f"{what} {value!r} is not one of {', '.join(e.value for e in enum)}") from None


@dataclass(frozen=True, slots=True)
class VerticalInfo:
    """Who a vertical is: its id (also its entry-point name), names in zh-CN and en, version."""

    id: str
    name_zh: str
    name_en: str
    version: str

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise PluginError(self.id, "id must be 2-40 lowercase letters, digits or underscores")
        if not self.name_zh.strip() or not self.name_en.strip():
            raise PluginError(self.id, "names in zh-CN and en are both required")
        if not _VERSION.match(self.version):
            raise PluginError(self.id, f"version {self.version!r} is not a version number")


_PERMISSION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


@dataclass(frozen=True, slots=True)
class Permission:
    """A permission a vertical adds: ``<vertical id>.<noun>.<verb>``, described in zh-CN and en."""

    name: str
    description_en: str
    description_zh: str

    def __post_init__(self) -> None:
        if not _PERMISSION.match(self.name) or len(self.name) > 100:
            raise PluginError(self.name, "a permission is dotted lowercase words, e.g. automotive.archive.check")
        if not self.description_en.strip() or not self.description_zh.strip():
            raise PluginError(self.name, "a permission needs descriptions in zh-CN and en")


# --- Parameters -------------------------------------------------------------------------------


class ParameterKind(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    TEXT = "text"
    CHOICE = "choice"


class ParameterInvalid(KehuError):
    """A value for a vertical's parameter breaks its schema (type, bounds, choices)."""

    def __init__(self, key: str, message_en: str, message_zh: str) -> None:
        super().__init__("PARAMETER_INVALID", message_en, message_zh, field=key)


TEXT_PARAMETER_MAX = 500


@dataclass(frozen=True, slots=True)
class Parameter:
    """A tenant-tunable value of a vertical (KPI points, caps, validity periods, deadlines).

    ``minimum``/``maximum`` bound integer and decimal parameters (inclusive); ``choices`` lists
    the allowed values of a choice parameter; ``unit`` is shown beside the value (``days``, ``%``).

    A decimal parameter's value is a ``Decimal``: its default, bounds and a tenant's override may be
    given as a ``Decimal``, a decimal string (``"12.50"``), an integer or a float (read as the
    number it prints as); overrides are stored as decimal strings, never as floats.
    ``at_most``/``at_least`` name another numeric parameter of the same vertical this one may not
    exceed / fall below (a B threshold never above the A threshold); the registry checks the
    defaults and a tenant's overrides are refused with ``PARAMETER_ORDER`` when they break it.
    """

    key: str
    kind: ParameterKind
    default: ParameterValue
    help_en: str
    help_zh: str
    minimum: int | float | None = None
    maximum: int | float | None = None
    unit: str = ""
    choices: tuple[str, ...] = ()
    at_most: str | None = None
    at_least: str | None = None

    def __post_init__(self) -> None:
        _frozen(self, kind=_enum(ParameterKind, self.kind, f"parameter {self.key!r}: kind"),
                choices=_strings(self.choices, f"parameter {self.key!r}: choices"))
        if self.kind is ParameterKind.DECIMAL:  # exact from the start: defaults and bounds as Decimal
            for name in ("default", "minimum", "maximum"):
                number = exact_decimal(getattr(self, name))
                if number is not None:
                    _frozen(self, **{name: number})

    def check(self, value: object) -> ParameterValue:
        """The value, normalised, if this parameter accepts it; else ``ParameterInvalid``."""
        key, kind = self.key, self.kind
        if kind is ParameterKind.BOOLEAN:
            if not isinstance(value, bool):
                raise ParameterInvalid(key, f"{key} must be true or false", f"{key} 须为 true 或 false")
            return value
        if kind in (ParameterKind.TEXT, ParameterKind.CHOICE):
            if not isinstance(value, str):
                raise ParameterInvalid(key, f"{key} must be text", f"{key} 须为文本")
            if kind is ParameterKind.CHOICE and value not in self.choices:
                allowed = ", ".join(self.choices)
                raise ParameterInvalid(key, f"{key} must be one of {allowed}", f"{key} 须为以下之一：{allowed}")
            if len(value) > TEXT_PARAMETER_MAX:
                raise ParameterInvalid(key, f"{key} is longer than {TEXT_PARAMETER_MAX} characters",
                                       f"{key} 超过 {TEXT_PARAMETER_MAX} 个字符")
            return value
        whole = isinstance(value, int) and not isinstance(value, bool)
        if kind is ParameterKind.INTEGER and not whole:
            raise ParameterInvalid(key, f"{key} must be a whole number", f"{key} 须为整数")
        if kind is ParameterKind.DECIMAL:
            number = exact_decimal(value)
            if number is None:
                raise ParameterInvalid(key, f"{key} must be a decimal number (e.g. 12.50)", f"{key} 须为十进制数（如 12.50）")
            value = number
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):  # type: ignore[operator]
            unit = f" {self.unit}" if self.unit else ""
            bounds = (f"between {low} and {high}" if low is not None and high is not None
                      else f"at least {low}" if low is not None else f"at most {high}")
            bounds_zh = (f"在 {low} 至 {high} 之间" if low is not None and high is not None
                         else f"不小于 {low}" if low is not None else f"不大于 {high}")
            raise ParameterInvalid(key, f"{key} must be {bounds}{unit}, not {value}",
                                   f"{key} 须{bounds_zh}{unit}，而不是 {value}")
        return value  # type: ignore[return-value]


class ParameterOrderBroken(KehuError):
    """Values that break an order a vertical declared between its parameters (``at_most``/``at_least``)."""

    def __init__(self, parameter: Parameter, relation: str, other: str, value: object, limit: object,
                 field: str | None = None) -> None:
        above = relation == "at_most"
        super().__init__(
            "PARAMETER_ORDER",
            f"{parameter.key} ({value}) may not be {'above' if above else 'below'} {other} ({limit})",
            f"{parameter.key}（{value}）不得{'高于' if above else '低于'} {other}（{limit}）", field=field or parameter.key)


def order_violations(parameters: Sequence[Parameter], values: Mapping[str, Any]
                     ) -> list[tuple[Parameter, str, str]]:
    """``(parameter, "at_most" | "at_least", other key)`` for every declared order between
    parameters that ``values`` (key -> value) break; pairs with a missing value are skipped."""
    broken: list[tuple[Parameter, str, str]] = []
    for parameter in parameters:
        for relation in ("at_most", "at_least"):
            other = getattr(parameter, relation)
            if other is None or parameter.key not in values or other not in values:
                continue
            value, limit = values[parameter.key], values[other]
            try:
                wrong = value > limit if relation == "at_most" else value < limit
            except TypeError:  # not comparable: the registry reports the declaration itself
                continue
            if wrong:
                broken.append((parameter, relation, other))
    return broken


def check_order(parameters: Sequence[Parameter], values: Mapping[str, Any], changed: Iterable[str] = ()) -> None:
    """Raise ``PARAMETER_ORDER`` for the first declared order ``values`` break; its field is the
    one of the pair among ``changed`` (what the caller changed), else the constrained one."""
    changed = set(changed)
    for parameter, relation, other in order_violations(parameters, values):
        field = parameter.key if parameter.key in changed or other not in changed else other
        raise ParameterOrderBroken(parameter, relation, other, values[parameter.key], values[other], field)


# --- Customer extension fields ----------------------------------------------------------------


class PrivacyClass(StrEnum):
    """How PIPL treats a field: not personal (a dealer's business data), personal information,
    or sensitive personal information (PIPL art. 28: stricter consent, masked by default)."""

    NOT_PERSONAL = "not_personal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


class FieldKind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class CustomerField:
    """An extension field a vertical adds to customer records, with its privacy class and
    validation: ``max_length`` and ``pattern`` (a full-match regular expression) for text,
    ``choices`` for a choice field."""

    name: str
    kind: FieldKind
    privacy: PrivacyClass
    label_en: str
    label_zh: str
    required: bool = False
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    # A required field is required of these customer kinds (person, organisation) and statuses
    # (potential, active, …) only; empty means all. E.g. a dealer's vehicle fields are required
    # of active customers (owners), not of prospects.
    required_kinds: tuple[str, ...] = ()
    required_statuses: tuple[str, ...] = ()
    # A managed field changes only through its vertical's own operations (a tobacco retailer's
    # ordering method goes through an approved change, S21 Art11): customerCreate, customerUpdate
    # and imports refuse a value for it (FIELD_MANAGED).
    managed: bool = False

    def __post_init__(self) -> None:
        where = f"customer field {self.name!r}"
        _frozen(self, kind=_enum(FieldKind, self.kind, f"{where}: kind"),
                privacy=_enum(PrivacyClass, self.privacy, f"{where}: privacy class"),
                choices=_strings(self.choices, f"{where}: choices"),
                required_kinds=_strings(self.required_kinds, f"{where}: required_kinds"),
                required_statuses=_strings(self.required_statuses, f"{where}: required_statuses"))

    def required_of(self, kind: str | None, status: str | None) -> bool:
        return (self.required and (not self.required_kinds or kind in self.required_kinds)
                and (not self.required_statuses or status in self.required_statuses))


# --- Archive standards ------------------------------------------------------------------------


class DocumentFieldKind(StrEnum):
    TEXT = "text"
    DATE = "date"  # YYYY-MM-DD
    DATETIME = "datetime"  # YYYY-MM-DDTHH:MM, 24-hour clock
    AMOUNT = "amount"  # CNY as a decimal string
    MEASURE = "measure"  # a number with its unit, "2.5Bar"
    TICK = "tick"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class DocumentField:
    """A field of an archive document, so core can show the form and check it is filled (a
    ``measure`` carries ``unit``; a ``choice`` lists its ``choices``, and a filled value must be
    one of them; "无" and "✓" count as filled)."""

    name: str
    kind: DocumentFieldKind
    label_en: str
    label_zh: str
    required: bool = True
    unit: str | None = None
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _frozen(self, kind=_enum(DocumentFieldKind, self.kind, f"document field {self.name!r}: kind"),
                choices=_strings(self.choices, f"document field {self.name!r}: choices"))


@dataclass(frozen=True, slots=True)
class ArchiveDocument:
    """One document of an archive, in the order it is filed: its fields, the roles that must sign
    it and the seals it must bear."""

    code: str
    name_en: str
    name_zh: str
    required: bool = True
    fields: tuple[DocumentField, ...] = ()
    signatures: tuple[str, ...] = ()
    seals: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        where = f"document {self.code!r}"
        _frozen(self, fields=_sequence(self.fields, f"{where}: fields"),
                signatures=_strings(self.signatures, f"{where}: signatures"),
                seals=_strings(self.seals, f"{where}: seals"))


@dataclass(frozen=True, slots=True)
class CheckFinding:
    """One problem a check found: the document and field concerned (``None`` for the archive as a
    whole) and the message in both languages."""

    message_en: str
    message_zh: str
    document: str | None = None
    field: str | None = None


# ``check(archive, parameters)``: ``None`` when the archive passes (or the rule does not apply to
# it), else a message, a ``CheckFinding`` or several. The archive is a plain mapping — see
# docs/plugins.md, "Archive checks", for its shape.
ArchiveCheckPolicy = Callable[[Mapping[str, Any], Mapping[str, ParameterValue]],
                              "str | CheckFinding | Iterable[CheckFinding] | None"]


@dataclass(frozen=True, slots=True)
class ArchiveCheck:
    """A rule an archive is checked against. ``check(archive, parameters)`` returns ``None`` when
    the archive passes, else the problem; without ``check`` the rule is a manual checklist item."""

    code: str
    description_en: str
    description_zh: str
    check: ArchiveCheckPolicy | None = None


class Frequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class SubmissionSchedule:
    """When archives are handed in: daily, weekly on ``weekday`` (1 = Monday) or monthly on
    ``day_of_month``, by ``at`` (HH:MM, tenant's time zone)."""

    frequency: Frequency
    weekday: int | None = None
    day_of_month: int | None = None
    at: str | None = None
    # Optional: the vertical's integer parameters a tenant tunes ``weekday`` and the hour of ``at``
    # with, the hour the archive department collects a day's archives, and the archive fact (a date)
    # of the event an archive documents (a delivery, a settlement), from which its due moment counts.
    weekday_parameter: str | None = None
    hour_parameter: str | None = None
    collection_hour_parameter: str | None = None
    event_fact: str | None = None

    def __post_init__(self) -> None:
        _frozen(self, frequency=_enum(Frequency, self.frequency, "submission frequency"))
        if self.at is not None and not _TIME.match(self.at):
            raise ContractError(f"submission time {self.at!r} is not HH:MM")


class RetentionEnd(StrEnum):
    SEAL = "seal"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """Keep an archive ``years`` after ``counted_from`` (an event name such as ``created`` or
    ``last_service``), then seal or delete it. ``parameter`` names the vertical's integer parameter
    a tenant tunes ``years`` with, if any."""

    code: str
    years: int
    counted_from: str
    then: RetentionEnd
    description_en: str
    description_zh: str
    parameter: str | None = None
    # Optional: the rule applies only once the folder has had no ``idle_event`` (``last_service``)
    # for ``idle_years`` (tuned by ``idle_years_parameter``), and then it alone gives the retention.
    idle_event: str | None = None
    idle_years: int | None = None
    idle_years_parameter: str | None = None

    def __post_init__(self) -> None:
        _frozen(self, then=_enum(RetentionEnd, self.then, f"retention rule {self.code!r}: end"))
        if self.idle_event is not None and (self.idle_years is None or self.idle_years < 1):
            raise ContractError(f"retention rule {self.code!r}: idle_event needs idle_years of at least 1")


@dataclass(frozen=True, slots=True)
class ArchiveStandard:
    """An archive type: its documents in order, check rules, submission schedule, retention.
    ``rectification_hours_parameter`` names the vertical's parameter giving a rejected archive's
    hours to be resubmitted; ``subject`` is what one folder holds (automotive: a vehicle)."""

    id: str
    name_en: str
    name_zh: str
    documents: tuple[ArchiveDocument, ...]
    checks: tuple[ArchiveCheck, ...] = ()
    submission: SubmissionSchedule | None = None
    retention: tuple[RetentionRule, ...] = ()
    rectification_hours_parameter: str | None = None
    subject: str = "subject"

    def __post_init__(self) -> None:
        where = f"archive type {self.id!r}"
        _frozen(self, documents=_sequence(self.documents, f"{where}: documents"),
                checks=_sequence(self.checks, f"{where}: checks"),
                retention=_sequence(self.retention, f"{where}: retention"))


# --- Personal data in plugin tables -----------------------------------------------------------


class ErasureMode(StrEnum):
    DELETE = "delete"  # the subject's rows go
    ANONYMISE = "anonymise"  # the rows stay (counts, links) with the listed columns emptied


_SQL_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True)
class PersonalDataTable:
    """A plugin table holding customers' personal data: ``customer_column`` holds the customer's
    id, ``columns`` the personal values. Core erases the subject's rows (``erase``: delete or
    anonymise the columns) and copies them into subject-access exports, by these names; the
    names are checked against the live schema when kehu starts erasing."""

    table: str
    customer_column: str
    columns: tuple[str, ...]
    erase: ErasureMode = ErasureMode.DELETE

    def __post_init__(self) -> None:
        _frozen(self, columns=_strings(self.columns, f"personal data table {self.table!r}: columns"),
                erase=_enum(ErasureMode, self.erase, f"personal data table {self.table!r}: erase"))
        for name in (self.table, self.customer_column, *self.columns):
            if not isinstance(name, str) or not _SQL_NAME.match(name):
                raise ContractError(f"personal data table {self.table!r}: {name!r} is not a plain SQL name")


# --- Attribution ------------------------------------------------------------------------------


class LedgerKind(StrEnum):
    """What an entry of the attribution ledger records. The ledger is append-only: a correction
    or a confirmation is a new entry that names (``refers_to``) the entry it corrects or confirms."""

    REGISTRATION = "registration"  # a consultant registers the customer (visit register, lead card)
    FOLLOW_UP = "follow_up"  # the last one starts a registration's validity again (RE20)
    PRE_DECLARATION = "pre_declaration"  # 报备: a consultant announces a referred customer (RE26, RE29)
    PHONE_INQUIRY = "phone_inquiry"  # recorded, never a basis for attribution (RE12)
    VISIT = "visit"  # a reception: data["reception"] is rotation | duty | designated
    RECOGNITION = "recognition"  # the original consultant recognised a customer who forgot them (RE9)
    CONFIRMATION = "confirmation"  # the clerk confirms the entry it refers to: valid, immutable (RE21)
    DEAL = "deal"
    DEAL_CHANGE = "deal_change"  # rename or unit change of the deal it refers to (RE30)
    TRANSFER = "transfer"  # the customer moves to ``consultant`` by a rule (RE11 C, a void card reassigned)
    DISPUTE_DECISION = "dispute_decision"  # the approved outcome of a dispute (RE31): data["shares"]
    CORRECTION = "correction"  # voids the entry it refers to (never a confirmed one)


class Relation(StrEnum):
    """How two customers are related. Spouses, parents and children, parents-in-law and
    children-in-law are direct relatives (直系亲属, RE24-RE25); siblings and others are not."""

    SPOUSE = "spouse"
    PARENT = "parent"  # the related customer is a parent of the customer
    CHILD = "child"
    PARENT_IN_LAW = "parent_in_law"
    CHILD_IN_LAW = "child_in_law"
    SIBLING = "sibling"
    OTHER = "other"


DIRECT_RELATIONS = frozenset({Relation.SPOUSE, Relation.PARENT, Relation.CHILD, Relation.PARENT_IN_LAW,
                              Relation.CHILD_IN_LAW})


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One entry as a policy sees it. ``seq`` orders the tenant's ledger; ``at`` is when it
    happened (timezone-aware); ``confirmed`` is set by core when a confirmation refers to it."""

    id: str
    seq: int
    customer: str
    kind: str
    at: Any  # datetime
    consultant: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    refers_to: str | None = None
    confirmed: bool = False


@dataclass(frozen=True, slots=True)
class RelatedLedger:
    """A related customer's entries, with the relation (``direct`` for direct relatives)."""

    customer: str
    relation: str
    direct: bool
    entries: tuple[LedgerEntry, ...]


@dataclass(frozen=True, slots=True)
class AttributionFacts:
    """What core assembles for a policy: the customer's entries in ``seq`` order with corrected
    (voided) entries left out, the related customers' entries, and the moment of the decision."""

    customer: str
    entries: tuple[LedgerEntry, ...]
    relatives: tuple[RelatedLedger, ...] = ()
    as_of: Any = None  # datetime
    zone: str = "Asia/Shanghai"  # the tenant's time zone (its working calendar's): where a day begins


@dataclass(frozen=True, slots=True)
class DealSplit:
    """How one deal's commission splits (consultant -> percent, summing to 100) and why."""

    deal: str  # the deal entry's id
    shares: Mapping[str, int]
    rule: str
    explanation_en: str
    explanation_zh: str
    entries: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _frozen(self, shares=dict(self.shares), entries=tuple(self.entries), facts=dict(self.facts))
        _check_shares(self.rule, self.shares)


def _check_shares(rule: str, shares: Mapping[str, int]) -> None:
    if any(not 0 <= share <= 100 for share in shares.values()):
        raise ContractError(f"attribution rule {rule!r}: a share is outside 0..100")
    if shares and sum(shares.values()) != 100:
        raise ContractError(f"attribution rule {rule!r}: shares add up to {sum(shares.values())}, not 100")


@dataclass(frozen=True, slots=True)
class AttributionDecision:
    """Who owns a customer now, how commission splits (party -> percent, summing to 100 when
    there is a split) and why, in words a consultant and an auditor can read: the rule, the
    facts used and the ledger entries the decision rests on; ``deals`` splits each deal."""

    owner: str | None
    shares: Mapping[str, int]
    rule: str
    explanation_en: str
    explanation_zh: str
    entries: tuple[str, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    deals: tuple[DealSplit, ...] = ()

    def __post_init__(self) -> None:
        _frozen(self, shares=dict(self.shares), entries=tuple(self.entries), facts=dict(self.facts),
                deals=tuple(self.deals))
        _check_shares(self.rule, self.shares)


AttributionPolicyFunction = Callable[[AttributionFacts, Mapping[str, ParameterValue]], AttributionDecision]


@dataclass(frozen=True, slots=True)
class AttributionPolicy:
    """``decide(facts, parameters) -> AttributionDecision``: a plain synchronous function of the
    facts core assembles from the ledger and the tenant's effective parameters; it must give the
    same decision for the same facts (replaying the ledger reproduces every owner). Core does the
    I/O, persistence and audit."""

    id: str
    name_en: str
    name_zh: str
    decide: AttributionPolicyFunction


# --- Grading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grade:
    """One grade of a scale. ``rank`` 1 is the best; ``cap_percent`` caps the share of customers
    holding it (e.g. VIP at most 15%)."""

    code: str
    name_en: str
    name_zh: str
    rank: int
    cap_percent: float | None = None
    # a soft cap warns in a review instead of refusing its publication
    cap_soft: bool = False
    # a parameter of the vertical whose tenant value replaces ``cap_percent`` (``vip_cap_percent``)
    cap_parameter: str | None = None
    # the lowest weighted score (see ``GradeCriterion``) that earns this grade; None: no floor
    min_score: float | None = None


class BlacklistScope(StrEnum):
    DEPARTMENT = "department"
    TENANT = "tenant"


GradingPolicy = Callable[[Mapping[str, Any], Mapping[str, ParameterValue]], str]


class GradeScope(StrEnum):
    """Where a grade holds (MD19): one grade per customer for the tenant, or one per department
    or product line."""

    TENANT = "tenant"
    DEPARTMENT = "department"
    PRODUCT_LINE = "product_line"


@dataclass(frozen=True, slots=True)
class GradeCriterion:
    """One weighted criterion of a scheme: the latest recorded value of fact ``fact`` times ``weight``."""

    fact: str
    weight: float


@dataclass(frozen=True, slots=True)
class GradingScheme:
    """A grade scale listed best first, an optional ``score(facts, parameters) -> grade code``
    policy, the review cycle, and where a blacklist applies and for how long."""

    id: str
    name_en: str
    name_zh: str
    grades: tuple[Grade, ...]
    review_cycle_days: int | None = None
    blacklist_scopes: tuple[BlacklistScope, ...] = ()
    blacklist_days: int | None = None
    score: GradingPolicy | None = None
    scope: GradeScope = GradeScope.TENANT
    criteria: tuple[GradeCriterion, ...] = ()
    # who proposes reviews, records facts and overrides; who approves a review (not its proposer).
    # None: ``<vertical>.grade.assign``
    permission: str | None = None
    approve_permission: str | None = None
    # days to carry out a required change (MD10) when the vertical has no ``downgrade_deadline_days``
    change_deadline_days: int | None = None

    def __post_init__(self) -> None:
        where = f"grading scheme {self.id!r}"
        _frozen(self, scope=_enum(GradeScope, self.scope, f"{where}: scope"),
                criteria=_sequence(self.criteria, f"{where}: criteria"))
        _frozen(self, grades=_sequence(self.grades, f"{where}: grades"),
                blacklist_scopes=tuple(_enum(BlacklistScope, s, f"{where}: blacklist scope")
                                       for s in _strings(self.blacklist_scopes, f"{where}: blacklist_scopes")))


# --- Complaints -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintState:
    code: str
    name_en: str
    name_zh: str
    terminal: bool = False


@dataclass(frozen=True, slots=True)
class ComplaintTransition:
    """``action`` moves a complaint from ``source`` to ``target``."""

    source: str
    target: str
    action: str


class DeadlineUnit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"


@dataclass(frozen=True, slots=True)
class ComplaintDeadline:
    """A complaint of ``severity`` must reach a terminal state within ``amount`` ``unit``."""

    severity: str
    amount: int
    unit: DeadlineUnit

    def __post_init__(self) -> None:
        _frozen(self, unit=_enum(DeadlineUnit, self.unit, f"deadline for {self.severity!r}: unit"))


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """When ``after_percent`` of a ``severity`` complaint's deadline has passed, escalate to the
    holders of ``notify`` (a permission name)."""

    severity: str
    after_percent: int
    notify: str


@dataclass(frozen=True, slots=True)
class ComplaintFlow:
    """Categories, severities, a state graph from ``initial`` to terminal states, deadlines per
    severity and escalation steps."""

    id: str
    name_en: str
    name_zh: str
    categories: tuple[str, ...]
    severities: tuple[str, ...]
    states: tuple[ComplaintState, ...]
    initial: str
    transitions: tuple[ComplaintTransition, ...]
    deadlines: tuple[ComplaintDeadline, ...] = ()
    escalations: tuple[EscalationStep, ...] = ()

    def __post_init__(self) -> None:
        where = f"complaint flow {self.id!r}"
        _frozen(self, categories=_strings(self.categories, f"{where}: categories"),
                severities=_strings(self.severities, f"{where}: severities"),
                states=_sequence(self.states, f"{where}: states"),
                transitions=_sequence(self.transitions, f"{where}: transitions"),
                deadlines=_sequence(self.deadlines, f"{where}: deadlines"),
                escalations=_sequence(self.escalations, f"{where}: escalations"))


# --- Visits -----------------------------------------------------------------------------------


class VisitChannel(StrEnum):
    ON_SITE = "on_site"
    PHONE = "phone"
    ANY = "any"


@dataclass(frozen=True, slots=True)
class VisitPlan:
    """Visit customers of ``segment`` every ``every_days`` days through ``channel``. When
    ``grading_scheme`` is given, ``segment`` is one of that scheme's grade codes. ``monthly``
    reads the plan as once per calendar month (MD25 每月走访一次): the visit is due by the end of
    each month rather than ``every_days`` after the last one."""

    id: str
    segment: str
    every_days: int
    channel: VisitChannel
    description_en: str
    description_zh: str
    grading_scheme: str | None = None
    monthly: bool = False

    def __post_init__(self) -> None:
        _frozen(self, channel=_enum(VisitChannel, self.channel, f"visit plan {self.id!r}: channel"))


# --- GraphQL ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GraphQLTypes:
    """Strawberry ``query`` and ``mutation`` classes merged into kehu's root types, and extra
    ``types`` to register. Every root field's name starts with the vertical's id
    (``automotive_archives`` -> ``automotiveArchives``); each is guarded so a tenant that has not
    enabled the vertical gets ``VERTICAL_NOT_ENABLED``."""

    query: type | None = None
    mutation: type | None = None
    types: tuple[type, ...] = field(default=())

    def __post_init__(self) -> None:
        _frozen(self, types=_sequence(self.types, "GraphQL types"))


# --- events -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventType:
    """An event the vertical emits through the outbox (``emit``), which webhook endpoints may then
    subscribe to by name: ``name`` starts with the vertical's id (``my_vertical.note_added``);
    ``data_type`` is what the payload's ``data.id`` names, ``changed`` what ``data.changed`` lists,
    ``when`` when it is emitted (shown to integrators)."""

    name: str
    data_type: str
    changed: str
    when: str

    def __post_init__(self) -> None:
        for attribute in ("name", "data_type", "changed", "when"):
            if not isinstance(getattr(self, attribute), str):
                raise ContractError(f"event type {self.name!r}: {attribute} must be a string")
        if not _EVENT_NAME.match(self.name):
            raise ContractError(f"event type {self.name!r} must be dotted lowercase words (my_vertical.note_added)")


_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
