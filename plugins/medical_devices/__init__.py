"""The medical-device distributors vertical (seed 000 part 3, MD1–MD30; seed 002 §5; seed 003 R11,
R12; and the product-quality complaint flow of seed 003 R2, R3, R14 in ``complaints.py``).

- ``rules``: permissions, parameters, the department-scoped ``customer_grade`` scheme with its caps
  and scoring policy, the monthly visit plans, the customer-archive standard, the event types;
- ``policy``: pure policies (documents each customer type needs, expiry, grade criteria, archive
  checks);
- ``tables``: the vertical's own tables and migrations;
- ``service``: the use cases (qualifications and their reminders, admission, forums and
  promotions, sales and after-sale contact, change notices) on ``core.plugins`` only;
- ``graphql``: the ``medicalDevices…`` GraphQL fields.

docs/medical-devices.md maps every rule to what enforces it.
"""

from core.plugins import GraphQLTypes, IsolationOperation, PersonalDataTable, VerticalInfo, hookimpl
from plugins.medical_devices import complaints, rules, service  # noqa: F401 - service registers the tick
from plugins.medical_devices.graphql import MedicalDevicesMutation, MedicalDevicesQuery
from plugins.medical_devices.tables import MIGRATIONS, TABLES

VERSION = "0.3.0"


@hookimpl
def kehu_vertical_info() -> VerticalInfo:
    return VerticalInfo(id="medical_devices", name_zh="医疗器械经销", name_en="Medical-device distributors", version=VERSION)


@hookimpl
def kehu_permissions():
    return (*rules.PERMISSIONS, *complaints.PERMISSIONS)


@hookimpl
def kehu_parameters():
    return rules.PARAMETERS


@hookimpl
def kehu_grading_schemes():
    return rules.GRADING


@hookimpl
def kehu_visit_plans():
    return rules.VISITS


@hookimpl
def kehu_complaint_flows():
    return complaints.FLOWS


@hookimpl
def kehu_archive_standards():
    return rules.ARCHIVE_STANDARDS


@hookimpl
def kehu_tables():
    return TABLES


@hookimpl
def kehu_migrations():
    return MIGRATIONS


@hookimpl
def kehu_graphql_types():
    return [GraphQLTypes(query=MedicalDevicesQuery, mutation=MedicalDevicesMutation)]


@hookimpl
def kehu_event_types():
    return rules.EVENT_TYPES


@hookimpl
def kehu_personal_data():
    # The after-sale contact note may name the customer's staff; a qualification number of a sole
    # trader's licence identifies a person. Neither is needed once the customer is erased.
    return [PersonalDataTable("medical_devices_sale", "customer_id", ("contact_note",), erase="anonymise"),
            PersonalDataTable("medical_devices_qualification", "customer_id", ("number",), erase="delete")]


_CUSTOMER = ('mutation($mark: String!) { customerCreate(input: {kind: "organisation", orgName: $mark}) '
             '{ customer { id } errors { code } } }')
_DEPARTMENT = 'mutation($mark: String!) { departmentCreate(name: $mark) { department { id } errors { code } } }'


@hookimpl
def kehu_isolation_operations():
    """The operations an owner may repeat (kehu's suite calls each twice per tenant with the first id
    it owns); admission, sales and the event steps, which refuse a repetition, are in kehu's own
    table (tests/isolation/operations.py)."""
    c, d = "customer", "department"
    return [
        IsolationOperation(_CUSTOMER, makes=(c, "customer.id")),
        IsolationOperation(_DEPARTMENT, makes=(d, "department.id")),
        IsolationOperation('mutation($c: ID!, $mark: String!) { medicalDevicesQualificationRecord(customerId: $c, '
                           'kind: "practice_licence", number: $mark, expiresOn: "2099-12-31") '
                           '{ qualification { id customerId } errors { code } } }',
                           ids=(("c", c),), makes=("medical_devices_qualification", "qualification.id")),
        IsolationOperation("{ medicalDevicesQualificationsExpiring(withinDays: 36500, first: 100) { nodes { id number } } }",
                           lists=("medical_devices_qualification", "nodes.*.id")),
        IsolationOperation("{ medicalDevicesAdmissions(first: 100) { nodes { id customerId verificationNote } } }",
                           lists=("medical_devices_admission", "nodes.*.id")),
        IsolationOperation("query($c: ID!) { medicalDevicesCustomer(customerId: $c) { customerId "
                           "qualifications { id number } admissions { id } changeNotices { id description } } }",
                           ids=(("c", c),)),
        IsolationOperation('mutation($c: ID!, $mark: String!) { medicalDevicesChangeNoticeRecord(customerId: $c, '
                           'kind: "change", channel: "online", receivedOn: "2026-01-05", description: $mark) '
                           '{ notice { id } errors { code } } }', ids=(("c", c),)),
        IsolationOperation('mutation($mark: String!) { medicalDevicesEventPlan(kind: "forum", title: $mark, '
                           'plannedOn: "2026-06-01", plan: $mark) { event { id title } errors { code } } }',
                           makes=("medical_devices_event", "event.id")),
        IsolationOperation("{ medicalDevicesEvents(first: 100) { nodes { id title plan } } }",
                           lists=("medical_devices_event", "nodes.*.id")),
        IsolationOperation("query($e: ID!) { medicalDevicesEvent(id: $e) { id title } }",
                           ids=(("e", "medical_devices_event"),)),
        IsolationOperation("mutation($e: ID!, $c: ID!) { medicalDevicesEventInvite(id: $e, customerId: $c) "
                           "{ event { id invitedCustomerIds } errors { code } } }",
                           ids=(("e", "medical_devices_event"), ("c", c))),
        IsolationOperation("{ medicalDevicesSales(first: 100) { nodes { id reference } } }",
                           lists=("medical_devices_sale", "nodes.*.id")),
        IsolationOperation('{ medicalDevicesGradeAssessment(facts: {hospitalLevel: "三级乙等"}) { grade reasons } }'),
        IsolationOperation("{ medicalDevicesArchiveUpdatesDue(first: 100) { nodes { customerId grades { scopeKey grade } } } }"),
    ]
