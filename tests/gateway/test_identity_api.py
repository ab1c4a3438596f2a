"""Identity over HTTP: every permission enforced on the server, 401 on bad credentials, tenant
binding of tokens and keys, rate limits with standard headers.

While the test client runs the app, data is set up through the API: the app's database pool
belongs to the app's event loop, not the test's.
"""

from __future__ import annotations

import base64
import json
import sqlite3

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from core.identity.runtime import identity
from core.settings import Settings
from gateway.app import create_app
from gateway.graphql.schema import build_schema
from tests.support import PASSWORD

LOGIN = 'mutation($t: String!, $u: String!, $p: String!) { login(tenant: $t, username: $u, password: $p) ' \
        '{ accessToken refreshToken errors { code } } }'
STRONG = "a-strong-new-phrase-42"

# Each mutation that needs a permission, called with real ids so only the permission can stop it.
PROTECTED = {
    "userCreate": 'mutation { userCreate(input: {username: "newbie", displayName: "N", password: "%s"}) { errors { code } } }' % STRONG,
    "userUpdate": 'mutation($user: ID!) { userUpdate(id: $user, displayName: "Renamed") { errors { code } } }',
    "userPasswordReset": 'mutation($user: ID!) { userPasswordReset(id: $user, newPassword: "%s") { errors { code } } }' % STRONG,
    "userDisable": 'mutation($user: ID!) { userDisable(id: $user, reason: "left") { errors { code } } }',
    "userEnable": 'mutation($user: ID!) { userEnable(id: $user) { errors { code } } }',
    "userClearanceSet": 'mutation($user: ID!) { userClearanceSet(id: $user, clearance: 1) { errors { code } } }',
    "roleCreate": 'mutation { roleCreate(input: {name: "New", permissions: []}) { errors { code } } }',
    "roleUpdate": 'mutation($role: ID!) { roleUpdate(id: $role, input: {name: "Renamed"}) { errors { code } } }',
    "roleDelete": 'mutation($role: ID!) { roleDelete(id: $role) { errors { code } } }',
    "roleGrant": 'mutation($user: ID!, $role: ID!) { roleGrant(userId: $user, roleId: $role) { errors { code } } }',
    "roleRevoke": 'mutation($user: ID!, $role: ID!) { roleRevoke(userId: $user, roleId: $role) { errors { code } } }',
    "roleChangeRequest": 'mutation($role: ID!) { roleChangeRequest(roleId: $role, permissions: []) { errors { code } } }',
    "roleChangeApprove": 'mutation($role: ID!) { roleChangeApprove(id: $role) { errors { code } } }',
    "roleChangeReject": 'mutation($role: ID!) { roleChangeReject(id: $role) { errors { code } } }',
    "departmentCreate": 'mutation { departmentCreate(name: "新部门") { errors { code } } }',
    "departmentRename": 'mutation($department: ID!) { departmentRename(id: $department, name: "改名") { errors { code } } }',
    "apiKeyCreate": 'mutation { apiKeyCreate(name: "k", permissions: []) { secret errors { code } } }',
    "apiKeyRevoke": 'mutation($key: ID!) { apiKeyRevoke(id: $key) { errors { code } } }',
    "identityPolicyUpdate": 'mutation { identityPolicyUpdate(input: {passwordMinLength: 8}) { errors { code } } }',
    "signInPolicyUpdate": 'mutation { signInPolicyUpdate(input: {challengeAfterFailures: 3}) { errors { code } } }',
    "totpReset": 'mutation($user: ID!) { totpReset(userId: $user) { errors { code } } }',
    "accountCompromiseReport": 'mutation($user: ID!) { accountCompromiseReport(userId: $user) { errors { code } } }',
    "auditRetentionUpdate": 'mutation { auditRetentionUpdate(days: 400) { errors { code } } }',
    "auditExportStart": 'mutation { auditExportStart { job { id } errors { code } } }',
    "complaintReportExportStart": 'mutation { complaintReportExportStart { job { id } errors { code } } }',
    "auditAnchor": 'mutation { auditAnchor { errors { code } } }',
    "webhookEndpointCreate": 'mutation { webhookEndpointCreate(url: "https://example.com/hook", eventTypes: ["*"]) '
                             '{ errors { code } } }',
    "webhookEndpointUpdate": 'mutation($hook: ID!) { webhookEndpointUpdate(id: $hook, description: "x") { errors { code } } }',
    "webhookEndpointDelete": 'mutation($hook: ID!) { webhookEndpointDelete(id: $hook) { errors { code } } }',
    "webhookDeliveryReplay": 'mutation($hook: ID!) { webhookDeliveryReplay(id: $hook) { errors { code } } }',
    "customerCreate": 'mutation { customerCreate(input: {kind: "person", surname: "王", givenName: "小明"}) '
                      '{ errors { code } } }',
    "customerUpdate": 'mutation($user: ID!) { customerUpdate(id: $user, version: 1, input: {status: "active"}) '
                      '{ errors { code } } }',
    "customerTransfer": 'mutation($user: ID!) { customerTransfer(id: $user, toUserId: $user, reason: "r") '
                        '{ errors { code } } }',
    "customerReview": 'mutation($user: ID!) { customerReview(id: $user) { errors { code } } }',
    "customerDelete": 'mutation($user: ID!) { customerDelete(id: $user, reason: "r") { errors { code } } }',
    "customerMerge": 'mutation($user: ID!) { customerMerge(survivorId: $user, mergedId: $user, reason: "r") '
                     '{ errors { code } } }',
    "customerUnmerge": 'mutation($user: ID!) { customerUnmerge(mergeId: $user) { errors { code } } }',
    "customerContactAdd": 'mutation($user: ID!) { customerContactAdd(customerId: $user, '
                          'input: {surname: "刘", givenName: "洋"}) { errors { code } } }',
    "customerContactRemove": 'mutation($user: ID!) { customerContactRemove(id: $user) { errors { code } } }',
    "customerRulesUpdate": 'mutation { customerRulesUpdate(input: {reviewMonths: 6}) { errors { code } } }',
    "customerImportStart": 'mutation { customerImportStart(file: "a2luZApwZXJzb24K", filename: "c.csv") '
                           '{ errors { code } } }',
    "customerExportStart": 'mutation($user: ID!) { customerExportStart(accessRequestId: $user, format: "csv") '
                           '{ errors { code } } }',
    "accessRequestCreate": 'mutation { accessRequestCreate(purpose: "回访") { errors { code } } }',
    "accessRequestApprove": 'mutation($user: ID!) { accessRequestApprove(id: $user) { errors { code } } }',
    "accessRequestReject": 'mutation($user: ID!) { accessRequestReject(id: $user, reason: "r") { errors { code } } }',
    "customerExportLink": 'mutation($user: ID!) { customerExportLink(jobId: $user) { errors { code } } }',
    "exportRulesUpdate": 'mutation { exportRulesUpdate(linkMinutes: 2) { errors { code } } }',
    "customerUnmask": 'mutation($user: ID!) { customerUnmask(id: $user, fields: ["phones"], reason: "check it") '
                      '{ errors { code } } }',
    "privacyRekeyStart": 'mutation { privacyRekeyStart { errors { code } } }',
    "workingCalendarUpdate": 'mutation { workingCalendarUpdate(input: {extraHolidays: ["2026-12-24"]}) { errors { code } } }',
    "verticalEnable": 'mutation { verticalEnable(verticalId: "automotive") { errors { code } } }',
    "verticalDisable": 'mutation { verticalDisable(verticalId: "automotive") { errors { code } } }',
    "verticalParametersUpdate": 'mutation { verticalParametersUpdate(verticalId: "automotive", parameters: '
                                '[{key: "rectification_hours", value: 48}]) { errors { code } } }',
    "privacySettingsUpdate": 'mutation { privacySettingsUpdate(input: {requestDays: 20}) { errors { code } } }',
    "consentGrant": 'mutation($user: ID!) { consentGrant(customerId: $user, purposes: ["marketing_sms"], '
                    'noticeVersion: "v1", channel: "web") { errors { code } } }',
    "consentWithdraw": 'mutation($user: ID!) { consentWithdraw(customerId: $user, purposes: ["marketing_sms"], '
                       'channel: "web") { errors { code } } }',
    "assessmentCreate": 'mutation { assessmentCreate(input: {subject: "s", processing: "p", risks: "r", measures: "m", '
                        'conclusion: "c", assessor: "a", assessedAt: "2026-01-01T00:00:00Z"}) { errors { code } } }',
    "assessmentUpdate": 'mutation($user: ID!) { assessmentUpdate(id: $user, version: 1, input: {risks: "r"}) '
                        '{ errors { code } } }',
    "incidentCreate": 'mutation { incidentCreate(input: {summary: "s", discoveredAt: "2026-01-01T00:00:00Z"}) '
                      '{ errors { code } } }',
    "incidentUpdate": 'mutation($user: ID!) { incidentUpdate(id: $user, version: 1, input: {measures: "m"}) '
                      '{ errors { code } } }',
    "archiveLend": 'mutation($user: ID!) { archiveLend(customerId: $user, borrowerId: $user, content: "c") '
                   '{ errors { code } } }',
    "archiveReturn": 'mutation($user: ID!) { archiveReturn(loanId: $user) { errors { code } } }',
    "archiveLoanApprove": 'mutation($user: ID!) { archiveLoanApprove(loanId: $user, capacity: "lender") { errors { code } } }',
    "archiveLoanSign": 'mutation($user: ID!) { archiveLoanSign(loanId: $user) { errors { code } } }',
    "archiveLoanIncident": 'mutation($user: ID!) { archiveLoanIncident(loanId: $user, kind: "lost", note: "x") '
                           '{ errors { code } } }',
    "archiveCopyApprove": 'mutation($user: ID!) { archiveCopyApprove(loanId: $user, scope: ["x"]) { errors { code } } }',
    "archiveBanLift": 'mutation($user: ID!) { archiveBanLift(id: $user, reason: "x") { errors { code } } }',
    # The automotive customer database (seed 002 part 1): the permission is checked before anything is read.
    "automotiveAccuracyCheckRecord": 'mutation($user: ID!) { automotiveAccuracyCheckRecord(weekOf: "2026-10-26", '
                                     'lines: [{entererId: $user, system: "crm", sample: 1, errors: 0}]) { errors { code } } }',
    "automotiveDatabasePlanDraft": 'mutation { automotiveDatabasePlanDraft(title: "t", content: "c", continuity: "k") '
                                   '{ errors { code } } }',
    "automotiveDatabasePlanOpinion": 'mutation($user: ID!) { automotiveDatabasePlanOpinion(id: $user, department: "d", '
                                     'opinion: "o") { errors { code } } }',
    "automotiveDatabasePlanSign": 'mutation($user: ID!) { automotiveDatabasePlanSign(id: $user) { errors { code } } }',
    "automotiveDatabasePlanImplement": 'mutation($user: ID!) { automotiveDatabasePlanImplement(id: $user) '
                                       '{ errors { code } } }',
    "automotiveDatabaseBackupRecord": 'mutation { automotiveDatabaseBackupRecord(month: "2026-10-01", '
                                      'takenAt: "2026-10-31T18:00:00+08:00", medium: "m", reference: "r") { errors { code } } }',
    "automotiveDatabaseRestoreRecord": 'mutation($user: ID!) { automotiveDatabaseRestoreRecord(backupId: $user, '
                                       'restoredAt: "2026-11-01T10:00:00+08:00", result: "ok") { errors { code } } }',
    "automotiveDatabaseApply": 'mutation { automotiveDatabaseApply(kind: "extract", department: "d", what: "w", why: "y", '
                               'scope: "s") { errors { code } } }',
    "automotiveDatabaseApplicationSign": 'mutation($user: ID!) { automotiveDatabaseApplicationSign(id: $user) '
                                         '{ errors { code } } }',
    "automotiveDatabaseApplicationRefuse": 'mutation($user: ID!) { automotiveDatabaseApplicationRefuse(id: $user, '
                                           'reason: "r") { errors { code } } }',
    "automotiveDatabaseExtractRelease": 'mutation($user: ID!) { automotiveDatabaseExtractRelease(id: $user) '
                                        '{ errors { code } } }',
    "automotiveArchivistHandoverRecord": 'mutation($user: ID!) { automotiveArchivistHandoverRecord(archivistId: $user, '
                                         'successorId: $user, handedOverAt: "2026-11-01T10:00:00+08:00", items: "i") '
                                         '{ errors { code } } }',
    "automotiveArchivistHandoverAcknowledge": 'mutation($user: ID!) { automotiveArchivistHandoverAcknowledge(id: $user) '
                                              '{ errors { code } } }',
    "subjectRequestCreate": 'mutation { subjectRequestCreate(customerId: "00000000-0000-0000-0000-000000000001", kind: "access") { errors { code } } }',
    "subjectRequestVerifyIdentity": 'mutation { subjectRequestVerifyIdentity(id: "00000000-0000-0000-0000-000000000001", method: "card") '
                                    '{ errors { code } } }',
    "subjectRequestFulfil": 'mutation { subjectRequestFulfil(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "subjectRequestReject": 'mutation { subjectRequestReject(id: "00000000-0000-0000-0000-000000000001", reason: "x") { errors { code } } }',
    "customerErase": 'mutation { customerErase(id: "00000000-0000-0000-0000-000000000001", reason: "x") { errors { code } } }',
    "customerFreeze": 'mutation { customerFreeze(id: "00000000-0000-0000-0000-000000000001", reason: "x", basis: "y") { errors { code } } }',
    "legalHoldPlace": 'mutation { legalHoldPlace(customerId: "00000000-0000-0000-0000-000000000001", reason: "x") { errors { code } } }',
    "legalHoldRelease": 'mutation { legalHoldRelease(customerId: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "privacyPurgeStart": "mutation { privacyPurgeStart { errors { code } } }",
    "archiveFolderCreate": 'mutation { archiveFolderCreate(vertical: "automotive", subjectKey: "VIN1") { errors { code } } }',
    "archiveCreate": 'mutation { archiveCreate(folderId: "00000000-0000-0000-0000-000000000001", standard: "sales_archive") { errors { code } } }',
    "archiveDocumentPut": 'mutation { archiveDocumentPut(archiveId: "00000000-0000-0000-0000-000000000001", code: "invoice", fields: {}) { errors { code } } }',
    "archiveSubmit": 'mutation { archiveSubmit(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "archiveCheck": 'mutation { archiveCheck(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "archiveRuleOverride": 'mutation { archiveRuleOverride(resultId: "00000000-0000-0000-0000-000000000001", reason: "x") { errors { code } } }',
    "archiveAccept": 'mutation { archiveAccept(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "archiveReject": 'mutation { archiveReject(id: "00000000-0000-0000-0000-000000000001", defects: ["x"]) { errors { code } } }',
    "archiveResubmit": 'mutation { archiveResubmit(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "archiveArchive": 'mutation { archiveArchive(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "archiveSeal": 'mutation { archiveSeal(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "archiveFineRecord": 'mutation { archiveFineRecord(archiveId: "00000000-0000-0000-0000-000000000001", userIds: ["00000000-0000-0000-0000-000000000001"], reason: "x") { errors { code } } }',
    "archiveExpectedImport": 'mutation { archiveExpectedImport(vertical: "automotive", standard: "sales_archive", source: "AAK", period: "W1", rows: [{key: "VIN1"}]) { errors { code } } }',
    "archiveLateSubmissionExplain": 'mutation { archiveLateSubmissionExplain(vertical: "automotive", standard: "sales_archive", subjectKey: "VIN1", reason: "x", promisedOn: "2030-01-01") { errors { code } } }',
    "archiveRectificationExtend": 'mutation { archiveRectificationExtend(archiveId: "00000000-0000-0000-0000-000000000001", reason: "x", promisedAt: "2030-01-01T00:00:00+08:00") { errors { code } } }',
    "archiveExceptionDecide": 'mutation { archiveExceptionDecide(id: "00000000-0000-0000-0000-000000000001", approve: true) { errors { code } } }',
    "archiveRejectionCountersign": 'mutation { archiveRejectionCountersign(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "archiveDamageRecord": 'mutation { archiveDamageRecord(id: "00000000-0000-0000-0000-000000000001", note: "x") { errors { code } } }',
    # Complaints (issue 19): the permission comes from the case's flow, so a real case is named.
    "complaintTransition": 'mutation($complaint: ID!) { complaintTransition(id: $complaint, action: "forward") '
                           '{ errors { code } } }',
    "complaintAssign": 'mutation($complaint: ID!, $department: ID!) { complaintAssign(id: $complaint, '
                       'departmentId: $department) { errors { code } } }',
    "complaintPause": 'mutation($complaint: ID!) { complaintPause(id: $complaint, fields: {reason: "x"}) '
                      '{ errors { code } } }',
    "complaintResume": 'mutation($complaint: ID!) { complaintResume(id: $complaint) { errors { code } } }',
    "complaintComplainantUnmask": 'mutation($complaint: ID!) { complaintComplainantUnmask(id: $complaint, '
                                  'reason: "isolation") { errors { code } } }',
    # Grading (issue 20): the permission is the scheme's; approving and publishing name a real review.
    "gradeFactRecord": 'mutation($customer: ID!, $department: String!) { gradeFactRecord(vertical: "medical_devices", '
                       'scheme: "customer_grade", customerId: $customer, name: "beds", value: 500, '
                       'scopeId: $department) { errors { code } } }',
    "gradeReviewPropose": 'mutation($department: String!) { gradeReviewPropose(vertical: "medical_devices", '
                          'scheme: "customer_grade", scopeId: $department) { errors { code } } }',
    "gradeReviewStart": 'mutation($department: String!) { gradeReviewStart(vertical: "medical_devices", '
                        'scheme: "customer_grade", scopeId: $department) { errors { code } } }',
    "gradeReviewApprove": 'mutation($review: ID!) { gradeReviewApprove(id: $review) { errors { code } } }',
    "gradeReviewPublish": 'mutation($review: ID!) { gradeReviewPublish(id: $review) { errors { code } } }',
    "gradeReviewPublishStart": 'mutation($review: ID!) { gradeReviewPublishStart(id: $review) { errors { code } } }',
    "gradeOverride": 'mutation($customer: ID!, $department: String!) { gradeOverride(vertical: "medical_devices", '
                     'scheme: "customer_grade", customerId: $customer, grade: "vip", reason: "x", '
                     'scopeId: $department) { errors { code } } }',
    "gradeChangeFlag": 'mutation($customer: ID!, $department: String!) { gradeChangeFlag(vertical: "medical_devices", '
                       'scheme: "customer_grade", customerId: $customer, requiredGrade: "qualified", reason: "x", '
                       'scopeId: $department) { errors { code } } }',
    # Blacklists and visits (issue 20): the permission is checked before the entry or customer is read.
    "blacklistPropose": 'mutation { blacklistPropose(input: {customerId: "00000000-0000-0000-0000-000000000001", scope: COMPANY, reason: "x", '
                        'evidence: [{text: "x"}]}) { errors { code } } }',
    "blacklistApprove": 'mutation { blacklistApprove(id: "00000000-0000-0000-0000-000000000001", version: 1) { errors { code } } }',
    "blacklistReject": 'mutation { blacklistReject(id: "00000000-0000-0000-0000-000000000001", version: 1, reason: "x") { errors { code } } }',
    "blacklistLift": 'mutation { blacklistLift(id: "00000000-0000-0000-0000-000000000001", version: 1, reason: "x") { errors { code } } }',
    "blacklistRulesUpdate": 'mutation { blacklistRulesUpdate(companyDays: 30) { errors { code } } }',
    "visitPlanSet": 'mutation { visitPlanSet(customerId: "00000000-0000-0000-0000-000000000001", vertical: "medical_devices", grade: "vip") '
                    '{ errors { code } } }',
    "visitPlanFromGrade": 'mutation { visitPlanFromGrade(customerId: "00000000-0000-0000-0000-000000000001", vertical: "medical_devices") '
                          '{ errors { code } } }',
    "visitRecord": 'mutation { visitRecord(input: {customerId: "00000000-0000-0000-0000-000000000001", channel: "on_site", '
                   'visitedAt: "2026-01-01T00:00:00Z", report: {needs: "x"}}) { errors { code } } }',
    # The medical-devices vertical (issue 20): the permission is checked before anything is read.
    "medicalDevicesQualificationRecord": 'mutation($customer: ID!) { medicalDevicesQualificationRecord(customerId: $customer, '
                                         'kind: "practice_licence", number: "x", expiresOn: "2030-01-01") { errors { code } } }',
    "medicalDevicesAdmit": 'mutation($customer: ID!, $department: ID!) { medicalDevicesAdmit(customerId: $customer, '
                           'departmentId: $department, customerType: "retail") { errors { code } } }',
    "medicalDevicesChangeNoticeRecord": 'mutation($customer: ID!) { medicalDevicesChangeNoticeRecord(customerId: $customer, '
                                        'kind: "change", channel: "online", receivedOn: "2026-01-01", description: "x") '
                                        '{ errors { code } } }',
    "medicalDevicesEventPlan": 'mutation { medicalDevicesEventPlan(kind: "forum", title: "x", plannedOn: "2026-01-01", '
                               'plan: "x") { errors { code } } }',
    "medicalDevicesEventApprove": 'mutation { medicalDevicesEventApprove(id: "00000000-0000-0000-0000-000000000001") '
                                  '{ errors { code } } }',
    "medicalDevicesEventHold": 'mutation { medicalDevicesEventHold(id: "00000000-0000-0000-0000-000000000001") '
                               '{ errors { code } } }',
    "medicalDevicesEventReport": 'mutation { medicalDevicesEventReport(id: "00000000-0000-0000-0000-000000000001", '
                                 'report: "x") { errors { code } } }',
    "medicalDevicesEventInvite": 'mutation($customer: ID!) { medicalDevicesEventInvite(id: '
                                 '"00000000-0000-0000-0000-000000000001", customerId: $customer) { errors { code } } }',
    "medicalDevicesSaleRecord": 'mutation($customer: ID!, $department: ID!) { medicalDevicesSaleRecord(customerId: $customer, '
                                'departmentId: $department, reference: "x", soldOn: "2026-01-01") { errors { code } } }',
    "medicalDevicesSaleContact": 'mutation { medicalDevicesSaleContact(id: "00000000-0000-0000-0000-000000000001", '
                                 'satisfaction: 5) { errors { code } } }',
    # Real-estate office management (issue 21): the permission is checked before anything is read.
    "realEstateFollowUpRecord": 'mutation($customer: ID!) { realEstateFollowUpRecord(customerId: $customer, '
                                'at: "2026-01-01T00:00:00Z", note: "x") { errors { code } } }',
    "realEstateCustomerGrade": 'mutation($customer: ID!) { realEstateCustomerGrade(customerId: $customer, grade: "A") '
                               '{ errors { code } } }',
    "realEstateCampaignCreate": 'mutation { realEstateCampaignCreate(kind: HOLIDAY, message: "x", sendOn: "2099-01-01") '
                                '{ errors { code } } }',
    "realEstateCampaignSend": 'mutation { realEstateCampaignSend(id: "00000000-0000-0000-0000-000000000001") '
                              '{ errors { code } } }',
    "realEstateViolationRecord": 'mutation($user: ID!) { realEstateViolationRecord(consultantId: $user, rule: "RE2", '
                                 'note: "x") { errors { code } } }',
    # Real-estate reception queue (issue 21): the permission is checked before the queue is read.
    "realEstateReceptionSignIn": 'mutation { realEstateReceptionSignIn(office: "A") { errors { code } } }',
    "realEstateSalesControlAcknowledge": 'mutation { realEstateSalesControlAcknowledge(office: "A") { errors { code } } }',
    "realEstateReceptionEligibility": 'mutation($user: ID!) { realEstateReceptionEligibility(office: "A", '
                                      'consultantId: $user, eligible: false, reason: "x") { errors { code } } }',
    "realEstateReceptionSwap": 'mutation($user: ID!) { realEstateReceptionSwap(office: "A", consultantId: $user, '
                               'otherConsultantId: $user) { errors { code } } }',
    "realEstateReceptionSkip": 'mutation($user: ID!) { realEstateReceptionSkip(office: "A", consultantId: $user) '
                               '{ errors { code } } }',
    "realEstateReceptionPriority": 'mutation($user: ID!) { realEstateReceptionPriority(office: "A", consultantId: $user) '
                                   '{ errors { code } } }',
    "realEstateReceptionArrive": 'mutation { realEstateReceptionArrive(office: "A", firstVisit: true) { errors { code } } }',
    "realEstateReceptionNext": 'mutation { realEstateReceptionNext(office: "A") { errors { code } } }',
    "realEstateReceptionDesignate": 'mutation($user: ID!) { realEstateReceptionDesignate(arrivalId: '
                                    '"00000000-0000-0000-0000-000000000001", consultantId: $user) { errors { code } } }',
    "realEstateReceptionCancel": 'mutation { realEstateReceptionCancel(arrivalId: '
                                 '"00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "realEstateReceptionEnd": 'mutation { realEstateReceptionEnd(receptionId: "00000000-0000-0000-0000-000000000001") '
                              '{ errors { code } } }',
    "realEstateReceptionReassign": 'mutation { realEstateReceptionReassign(receptionId: '
                                   '"00000000-0000-0000-0000-000000000001", reason: "customer_refused") { errors { code } } }',
    "realEstateRegisterConfirm": 'mutation { realEstateRegisterConfirm(office: "A", day: "2026-01-01") { errors { code } } }',
    # Blacklists and visits (issue 20): the permission is checked before the entry or customer is read.
    "blacklistPropose": 'mutation { blacklistPropose(input: {customerId: "00000000-0000-0000-0000-000000000001", scope: COMPANY, reason: "x", '
                        'evidence: [{text: "x"}]}) { errors { code } } }',
    "blacklistApprove": 'mutation { blacklistApprove(id: "00000000-0000-0000-0000-000000000001", version: 1) { errors { code } } }',
    "blacklistReject": 'mutation { blacklistReject(id: "00000000-0000-0000-0000-000000000001", version: 1, reason: "x") { errors { code } } }',
    "blacklistLift": 'mutation { blacklistLift(id: "00000000-0000-0000-0000-000000000001", version: 1, reason: "x") { errors { code } } }',
    "blacklistRulesUpdate": 'mutation { blacklistRulesUpdate(companyDays: 30) { errors { code } } }',
    "visitPlanSet": 'mutation { visitPlanSet(customerId: "00000000-0000-0000-0000-000000000001", vertical: "medical_devices", grade: "vip") '
                    '{ errors { code } } }',
    "visitPlanFromGrade": 'mutation { visitPlanFromGrade(customerId: "00000000-0000-0000-0000-000000000001", vertical: "medical_devices") '
                          '{ errors { code } } }',
    "visitRecord": 'mutation { visitRecord(input: {customerId: "00000000-0000-0000-0000-000000000001", channel: "on_site", '
                   'visitedAt: "2026-01-01T00:00:00Z", report: {needs: "x"}}) { errors { code } } }',
    # Attribution (issue 21): the permission is checked before the customer, entry or dispute is read.
    "attributionEntryRecord": 'mutation { attributionEntryRecord(input: {customerId: "00000000-0000-0000-0000-000000000001", '
                              'vertical: "real_estate", kind: VISIT, at: "2026-01-01T00:00:00Z"}) { errors { code } } }',
    "customerRelationAdd": 'mutation($customer: ID!) { customerRelationAdd(customerId: $customer, relatedId: $customer, '
                           'relation: SPOUSE) { errors { code } } }',
    "attributionDisputeOpen": 'mutation { attributionDisputeOpen(dealEntryId: "00000000-0000-0000-0000-000000000001", '
                              'claim: "x") { errors { code } } }',
    "attributionDisputeOpinion": 'mutation($user: ID!) { attributionDisputeOpinion(id: "00000000-0000-0000-0000-000000000001", '
                                 'version: 1, opinion: "x", ownerId: $user, shares: [{consultantId: $user, percent: 100}]) '
                                 '{ errors { code } } }',
    "attributionDisputeApprove": 'mutation { attributionDisputeApprove(id: "00000000-0000-0000-0000-000000000001", version: 2) '
                                 '{ errors { code } } }',
    "attributionDisputeReject": 'mutation { attributionDisputeReject(id: "00000000-0000-0000-0000-000000000001", version: 1, '
                                'reason: "x") { errors { code } } }',
    # A/B posts (issue 22): someone else's post needs role.grant, checked before anything is read.
    "postDelegationCreate": 'mutation($user: ID!, $role: ID!) { postDelegationCreate(roleId: $role, fromUserId: $user, '
                            'toUserId: $user, startsAt: "2026-01-05T09:00:00+08:00", endsAt: "2099-01-12T18:00:00+08:00", '
                            'handover: "x") { errors { code } } }',
    "postDelegationEnd": 'mutation { postDelegationEnd(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    # Tobacco (issue 22): the post's permission is checked before the customer or change is read.
    "tobaccoRetailerRegister": 'mutation($customer: ID!) { tobaccoRetailerRegister(customerId: $customer, '
                               'licenceDate: "2026-01-05") { errors { code } } }',
    "tobaccoMasterDataMaintain": 'mutation($customer: ID!) { tobaccoMasterDataMaintain(customerId: $customer, '
                                 'values: {location: "x"}) { errors { code } } }',
    "tobaccoQuotaApprove": 'mutation($customer: ID!) { tobaccoQuotaApprove(customerId: $customer) { errors { code } } }',
    "tobaccoPasswordHandover": 'mutation($customer: ID!) { tobaccoPasswordHandover(customerId: $customer) '
                               '{ errors { code } } }',
    "tobaccoSettlementEnrol": 'mutation($customer: ID!) { tobaccoSettlementEnrol(customerId: $customer, method: DEBIT_CARD, '
                              'bank: ICBC, cardNumber: "622200001234567890", settlementName: "x", '
                              'sealedPowerOfAttorney: true) { errors { code } } }',
    "tobaccoOrderingMethodSet": 'mutation($customer: ID!) { tobaccoOrderingMethodSet(customerId: $customer, method: ONLINE) '
                                '{ errors { code } } }',
    "tobaccoTemporaryChangeApply": 'mutation($customer: ID!) { tobaccoTemporaryChangeApply(customerId: $customer, '
                                   'kind: ORDERING_METHOD, reason: SYSTEM_FAILURE) { errors { code } } }',
    "tobaccoOrderRecord": 'mutation($customer: ID!) { tobaccoOrderRecord(customerId: $customer, '
                          'at: "2026-01-05T10:00:00+08:00") { errors { code } } }',
    "tobaccoChangeRequest": 'mutation($customer: ID!) { tobaccoChangeRequest(customerId: $customer, kind: URGENT_ROUTE, '
                            'applicationRef: "x", reason: "x", values: {delivery_route: "R1"}) { errors { code } } }',
    "tobaccoChangeSign": 'mutation { tobaccoChangeSign(id: "00000000-0000-0000-0000-000000000001", role: SECTION_CHIEF) { errors { code } } }',
    "tobaccoChangeExecute": 'mutation { tobaccoChangeExecute(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "tobaccoChangeFile": 'mutation { tobaccoChangeFile(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "tobaccoReportExport": 'mutation { tobaccoReportExport(report: WATCH_LIST, format: CSV) { errors { code } } }',
    "tobaccoRouteMeetingRecord": 'mutation { tobaccoRouteMeetingRecord(month: "2026-09", heldOn: "2026-09-29", '
                                 'minutes: "x") { errors { code } } }',
    "tobaccoRouteChangeApply": 'mutation($customer: ID!) { tobaccoRouteChangeApply(meetingId: \"00000000-0000-0000-0000-000000000001\", '
                               'customerId: $customer, values: {delivery_route: "R1"}) { errors { code } } }',
    "tobaccoDeliveryOrderChange": 'mutation($customer: ID!) { tobaccoDeliveryOrderChange(customerId: $customer, '
                                  'sequence: 2, reason: OTHER) { errors { code } } }',
    "tobaccoVisitPlanSave": 'mutation($customer: ID!) { tobaccoVisitPlanSave(route: "R1", month: "2026-10", '
                            'visits: [{customerId: $customer, day: "2026-10-12"}]) { errors { code } } }',
    "tobaccoGradeEvaluationClose": 'mutation { tobaccoGradeEvaluationClose(closedOn: "2026-09-24") { errors { code } } }',
    "tobaccoGradeReviewComplete": 'mutation { tobaccoGradeReviewComplete(id: \"00000000-0000-0000-0000-000000000001\", note: "x") { errors { code } } }',
    "tobaccoDuplicatePhoneVisit": 'mutation { tobaccoDuplicatePhoneVisit(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    # Automotive sales floor (seed 003 R6): the permission is checked before the card, order or fine is read.
    "automotivePenaltyRecord": 'mutation($user: ID!) { automotivePenaltyRecord(userId: $user, rule: "R6-36", reason: "x") { errors { code } } }',
    "automotivePenaltyCancel": 'mutation { automotivePenaltyCancel(id: \"00000000-0000-0000-0000-000000000001\", reason: "x") { errors { code } } }',
    "automotiveVisitRegister": 'mutation { automotiveVisitRegister(input: {kind: "visit", source: "walk_in", arrivedAt: "2026-11-02T10:00:00+08:00"}) { errors { code } } }',
    "automotiveLeadSmsSend": 'mutation { automotiveLeadSmsSend(visitId: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveCardCreate": 'mutation($customer: ID!) { automotiveCardCreate(input: {customerId: $customer, source: "walk_in", firstContact: "2026-11-02"}) { errors { code } } }',
    "automotiveCardSign": 'mutation { automotiveCardSign(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveCardFollowUp": 'mutation { automotiveCardFollowUp(id: \"00000000-0000-0000-0000-000000000001\", channel: "phone") { errors { code } } }',
    "automotiveFollowUpSign": 'mutation { automotiveFollowUpSign(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveCardReassign": 'mutation($user: ID!) { automotiveCardReassign(id: \"00000000-0000-0000-0000-000000000001\", consultantId: $user) { errors { code } } }',
    "automotiveCardRevoke": 'mutation { automotiveCardRevoke(id: \"00000000-0000-0000-0000-000000000001\", reason: "客户已在他店购车") { errors { code } } }',
    "automotiveCardReview": 'mutation { automotiveCardReview(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveCardUpdate": 'mutation { automotiveCardUpdate(id: \"00000000-0000-0000-0000-000000000001\", intention: "A") { errors { code } } }',
    "automotiveOwnershipPropose": 'mutation($customer: ID!, $user: ID!) { automotiveOwnershipPropose(customerId: $customer, consultantId: $user, reason: "x") { errors { code } } }',
    "automotiveOwnershipDecide": 'mutation { automotiveOwnershipDecide(id: \"00000000-0000-0000-0000-000000000001\", approve: true) { errors { code } } }',
    "automotiveOrderDraft": 'mutation($customer: ID!) { automotiveOrderDraft(customerId: $customer, model: "x", priceCny: 100000, paymentType: "full") { errors { code } } }',
    "automotiveOrderSign": 'mutation { automotiveOrderSign(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveOrderRegister": 'mutation { automotiveOrderRegister(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveOrderChangeRequest": 'mutation { automotiveOrderChangeRequest(id: \"00000000-0000-0000-0000-000000000001\", changes: {price_cny: 1}, reason: "x") { errors { code } } }',
    "automotiveOrderChangeDecide": 'mutation { automotiveOrderChangeDecide(id: \"00000000-0000-0000-0000-000000000001\", approve: true) { errors { code } } }',
    "automotiveOrderAssignVehicle": 'mutation { automotiveOrderAssignVehicle(id: \"00000000-0000-0000-0000-000000000001\", vin: "LSVAA4181E2123456") { errors { code } } }',
    "automotivePaymentRecord": 'mutation { automotivePaymentRecord(orderId: \"00000000-0000-0000-0000-000000000001\", kind: "payment", amountCny: 1) { errors { code } } }',
    "automotiveDepositReceiptReturned": 'mutation { automotiveDepositReceiptReturned(orderId: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveGmacRecord": 'mutation { automotiveGmacRecord(orderId: \"00000000-0000-0000-0000-000000000001\", what: "report") { errors { code } } }',
    "automotiveCarRelease": 'mutation { automotiveCarRelease(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveDeliveryDataReceive": 'mutation { automotiveDeliveryDataReceive(id: \"00000000-0000-0000-0000-000000000001\", items: ["id_copy"]) { errors { code } } }',
    "automotivePerformanceCancel": 'mutation { automotivePerformanceCancel(id: \"00000000-0000-0000-0000-000000000001\", reason: "x") { errors { code } } }',
    "automotiveDecorationWrite": 'mutation { automotiveDecorationWrite(kind: "decoration", description: "x") { errors { code } } }',
    "automotiveDecorationSign": 'mutation { automotiveDecorationSign(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveEvaluationRecord": 'mutation($user: ID!) { automotiveEvaluationRecord(consultantId: $user, day: "2026-11-02", passed: []) { errors { code } } }',
    "automotiveActionReportFile": 'mutation { automotiveActionReportFile(day: "2026-11-02", planned: "x", meetings: 2, calls: 5, visits: 2, routeMap: true, followedPlan: true) { errors { code } } }',
    "automotiveRoadshowRecord": 'mutation { automotiveRoadshowRecord(heldOn: "2026-11-07", venue: "x") { errors { code } } }',
    "automotiveRoadshowApprove": 'mutation { automotiveRoadshowApprove(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveRoadshowClose": 'mutation { automotiveRoadshowClose(id: \"00000000-0000-0000-0000-000000000001\", photosSubmitted: true, infos: []) { errors { code } } }',
    "automotiveSourceVerify": 'mutation { automotiveSourceVerify(cardId: \"00000000-0000-0000-0000-000000000001\", asked: false) { errors { code } } }',
    "automotiveGiftRequest": 'mutation($customer: ID!) { automotiveGiftRequest(customerId: $customer, description: "x", valueCny: 1) { errors { code } } }',
    "automotiveGiftSign": 'mutation { automotiveGiftSign(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    "automotiveGiftClose": 'mutation { automotiveGiftClose(id: \"00000000-0000-0000-0000-000000000001\", received: true, receiptRef: "x") { errors { code } } }',
    "automotiveReferralRewardPay": 'mutation { automotiveReferralRewardPay(id: \"00000000-0000-0000-0000-000000000001\") { errors { code } } }',
    # Automotive stock (seed 003 R6-45 to R6-58): the permission is checked before the car, key or drive is read.
    "automotiveStockOfficerDesignate": 'mutation($user: ID!) { automotiveStockOfficerDesignate(userId: $user) { errors { code } } }',
    "automotiveVehicleRegister": 'mutation { automotiveVehicleRegister(vin: "LSVAA4181E2123456", model: "x", kind: "stock", location: "4s") { errors { code } } }',
    "automotiveVehicleMove": 'mutation { automotiveVehicleMove(vin: "LSVAA4181E2123456", location: "4s") { errors { code } } }',
    "automotiveVehiclePdiRecord": 'mutation { automotiveVehiclePdiRecord(vin: "LSVAA4181E2123456", passed: true) { errors { code } } }',
    "automotiveVehicleClaimClose": 'mutation { automotiveVehicleClaimClose(vin: "LSVAA4181E2123456", recovered: true, note: "x") { errors { code } } }',
    "automotiveVehicleInspect": 'mutation { automotiveVehicleInspect(vin: "LSVAA4181E2123456", passed: true, note: "x") { errors { code } } }',
    "automotiveToolsIssue": 'mutation { automotiveToolsIssue(vin: "LSVAA4181E2123456") { errors { code } } }',
    "automotiveToolsLost": 'mutation($user: ID!) { automotiveToolsLost(vin: "LSVAA4181E2123456", userId: $user, reason: "x") { errors { code } } }',
    "automotiveVehicleUseApprove": 'mutation($user: ID!) { automotiveVehicleUseApprove(vin: "LSVAA4181E2123456", userId: $user, purpose: "commute", note: "x") { errors { code } } }',
    "automotiveKeyTake": 'mutation { automotiveKeyTake(vin: "LSVAA4181E2123456", purpose: "test_drive") { errors { code } } }',
    "automotiveKeyReturn": 'mutation { automotiveKeyReturn(id: "00000000-0000-0000-0000-000000000001") { errors { code } } }',
    "automotiveKeyLost": 'mutation { automotiveKeyLost(id: "00000000-0000-0000-0000-000000000001", reason: "x") { errors { code } } }',
    "automotiveTestDriveStart": 'mutation($customer: ID!, $user: ID!) { automotiveTestDriveStart(vin: "LSVAA4181E2123456", customerId: $customer, guideId: $user, agreement: true, licenceCopy: true) { errors { code } } }',
    "automotiveTestDriveEnd": 'mutation { automotiveTestDriveEnd(id: "00000000-0000-0000-0000-000000000001", confirmation: true, surveyReport: true) { errors { code } } }',
    "automotiveInventoryReport": 'mutation { automotiveInventoryReport(slot: "morning", note: "x") { errors { code } } }',
    "automotiveWarehouseVisitRecord": 'mutation($user: ID!) { automotiveWarehouseVisitRecord(consultantId: $user, note: "x") { errors { code } } }',
    # Fault tickets, the post-incident review, training (issue 24, seed-004 CSM-27 to CSM-30).
    "faultReport": 'mutation { faultReport(input: {symptom: "s", occurredAt: "2026-01-01T00:00:00Z", impactScope: "x"}) '
                   '{ errors { code } } }',
    "faultAdvance": 'mutation($user: ID!) { faultAdvance(id: $user, version: 1, action: "acknowledge") { errors { code } } }',
    "faultSettingsUpdate": 'mutation { faultSettingsUpdate(generalHours: 4) { errors { code } } }',
    "incidentClose": 'mutation($user: ID!) { incidentClose(id: $user, version: 1, review: {summary: "s", '
                     'effectiveness: "e", improvements: "i"}) { errors { code } } }',
    "trainingCourseCreate": 'mutation { trainingCourseCreate(title: "t") { errors { code } } }',
    "trainingHireDaySet": 'mutation($user: ID!) { trainingHireDaySet(userId: $user, hireDay: "2024-01-15") { errors { code } } }',
    "trainingResultRecord": 'mutation($user: ID!) { trainingResultRecord(courseId: $user, userId: $user, score: "60") '
                            '{ errors { code } } }',
    "trainingSettingsUpdate": 'mutation { trainingSettingsUpdate(passScore: 60) { errors { code } } }',
    # High-risk grants (issue 24, seed-004 CSM-21).
    "highRiskGrantPolicySet": 'mutation { highRiskGrantPolicySet(enabled: true) { errors { code } } }',
    "pendingGrantApprove": 'mutation($user: ID!) { pendingGrantApprove(id: $user) { errors { code } } }',
    "pendingGrantReject": 'mutation($user: ID!) { pendingGrantReject(id: $user, reason: "r") { errors { code } } }',
    "permissionReviewClose": 'mutation($user: ID!) { permissionReviewClose(id: $user, outcome: "kept") { errors { code } } }',
    # Key-field change requests (issue 24, seed-004 CSM-5 to CSM-8).
    "customerChangeRequestSubmit": 'mutation($customer: ID!) { customerChangeRequestSubmit(customerId: $customer, '
                                   'version: 1, input: {tags: ["x"]}) { errors { code } } }',
    "customerChangeRequestApply": 'mutation($user: ID!) { customerChangeRequestApply(id: $user) { errors { code } } }',
    "customerChangeRequestReject": 'mutation($user: ID!) { customerChangeRequestReject(id: $user, reason: "r") '
                                   '{ errors { code } } }',
    "customerChangeSettingsUpdate": 'mutation { customerChangeSettingsUpdate(slaWorkingDays: 3) { errors { code } } }',
    "customerRequiredFieldsSet": 'mutation { customerRequiredFieldsSet(fields: ["address"]) { errors { code } } }',
    # Customer deletion with two-level approval (issue 24, seed-004 CSM-9 to CSM-13).
    "customerDeletionRequestSubmit": 'mutation($customer: ID!, $department: ID!) { customerDeletionRequestSubmit('
                                     'customerId: $customer, departmentId: $department, reason: "DUPLICATE", '
                                     'reasonDetails: "x", customerDetails: "x") { errors { code } } }',
    "customerDeletionRequestSign": 'mutation($user: ID!) { customerDeletionRequestSign(id: $user) { errors { code } } }',
    "customerDeletionRequestApprove": 'mutation($user: ID!) { customerDeletionRequestApprove(id: $user) '
                                      '{ errors { code } } }',
    "customerDeletionRequestReject": 'mutation($user: ID!) { customerDeletionRequestReject(id: $user, reason: "r") '
                                     '{ errors { code } } }',
    "customerDeletionExecute": 'mutation($user: ID!) { customerDeletionExecute(id: $user) { errors { code } } }',
    "customerDeletionBackupPurgeConfirm": 'mutation($user: ID!) { customerDeletionBackupPurgeConfirm(id: $user, '
                                          'note: "n") { errors { code } } }',
    "customerDeletionRequestClose": 'mutation($user: ID!) { customerDeletionRequestClose(id: $user) '
                                    '{ errors { code } } }',
    "customerDeletionSettingsUpdate": 'mutation { customerDeletionSettingsUpdate(requiresApproval: true) '
                                      '{ errors { code } } }',
    "exportDlpPolicySet": 'mutation { exportDlpPolicySet(mode: "flag") { errors { code } } }',
}
# Mutations anyone may call, and why.
OPEN = {
    "login": "signing in is how a caller gets permissions",
    "tokenRefresh": "holding the refresh token is the credential",
    "signInChallenge": "asked before signing in, like login: a question for the next sign-in of a username",
    "totpEnrolmentStart": "the caller's own second factor",
    "totpEnrolmentConfirm": "the caller's own second factor, proven by a code of the app",
    "totpDisable": "the caller's own second factor, proven by a code or recovery code",
    "logout": "ends the caller's own login",
    "passwordChange": "changes the caller's own password, proven by the current one",
    "jobCancel": "cancels the caller's own job or one of a kind it may read; any other job is NOT_FOUND",
    "complaintIntake": "the flow says who may take a complaint (its intake_permission, required when it names one); "
                       "the property flow lets any employee take one (seed 003 R10-1: the first responder)",
}
PROTECTED_QUERIES = {
    "users": "{ users { edges { node { id } } } }",
    "user": "query($user: ID!) { user(id: $user) { id } }",
    "roles": "{ roles { nodes { id } } }",
    "roleChanges": "{ roleChanges { nodes { id } } }",
    "permissions": "{ permissions { name } }",
    "departments": "{ departments { nodes { id } } }",
    "apiKeys": "{ apiKeys { nodes { id } } }",
    "identityPolicy": "{ identityPolicy { passwordMinLength } }",
    "signInPolicy": "{ signInPolicy { totpRequired } }",
    "refusedAttempts": "{ refusedAttempts { nodes { code } } }",
    "auditEntries": "{ auditEntries { edges { node { seq } } } }",
    "auditVerify": "{ auditVerify { ok } }",
    "complaintReport": "{ complaintReport { complaints } }",
    "webhookEndpoints": "{ webhookEndpoints { nodes { id } } }",
    "webhookDeliveries": "{ webhookDeliveries { nodes { id } } }",
    "customers": "{ customers { edges { node { id } } } }",
    "customer": "query($user: ID!) { customer(id: $user) { id } }",
    "customerHistory": "query($user: ID!) { customerHistory(id: $user) { nodes { version } } }",
    "customerAsOf": 'query($user: ID!) { customerAsOf(id: $user, at: "2026-01-01T00:00:00Z") { version } }',
    "customerMerges": "query($user: ID!) { customerMerges(id: $user) { nodes { id } } }",
    "webhookAttempts": "query($user: ID!) { webhookAttempts(deliveryId: $user) { nodes { id } } }",
    "accessRequests": "{ accessRequests { nodes { id } } }",
    "accessRequest": "query($user: ID!) { accessRequest(id: $user) { id } }",
    "customerConsents": "query($user: ID!) { customerConsents(customerId: $user) { nodes { purpose } } }",
    "consentHistory": "query($user: ID!) { consentHistory(customerId: $user) { nodes { seq } } }",
    "mayProcess": 'query($user: ID!) { mayProcess(customerId: $user, purpose: "marketing_sms") }',
    "assessments": "{ assessments { nodes { id } } }",
    "incidents": "{ incidents { nodes { id } } }",
    "archiveLoans": "{ archiveLoans { nodes { id } } }",
    "archiveBorrowerBans": "{ archiveBorrowerBans { nodes { id } } }",
    "privacySettings": "{ privacySettings { requestDays } }",
    "subjectRequests": "{ subjectRequests { nodes { id } } }",
    "subjectRequest": "query($user: ID!) { subjectRequest(id: $user) { id } }",
    "retentionPolicies": "{ retentionPolicies { code } }",
    "archiveFolders": '{ archiveFolders { nodes { id } } }',
    "archiveFolder": 'query($user: ID!) { archiveFolder(id: $user) { id } }',
    "archives": '{ archives { nodes { id } } }',
    "archive": 'query($user: ID!) { archive(id: $user) { id } }',
    "kpiLedger": '{ kpiLedger { nodes { id } } }',
    "archiveQualityReport": '{ archiveQualityReport(vertical: "automotive", period: "2026-03") { expected } }',
    "missingArchiveReports": '{ missingArchiveReports { nodes { id } } }',
    "blacklistEntries": "{ blacklistEntries { nodes { id } } }",
    "blacklistEntry": "query($user: ID!) { blacklistEntry(id: $user) { id } }",
    "customerBlacklist": "query($user: ID!) { customerBlacklist(customerId: $user) { blocked } }",
    "blacklistRules": "{ blacklistRules { companyDays } }",
    "customerVisitPlan": "query($user: ID!) { customerVisitPlan(customerId: $user) { customerId } }",
    "visits": "{ visits { nodes { id } } }",
    "dueVisits": "{ dueVisits { nodes { id } } }",
    "visitOverdueReport": "{ visitOverdueReport { total } }",
    "blacklistEntries": "{ blacklistEntries { nodes { id } } }",
    "blacklistEntry": "query($user: ID!) { blacklistEntry(id: $user) { id } }",
    "customerBlacklist": "query($user: ID!) { customerBlacklist(customerId: $user) { blocked } }",
    "blacklistRules": "{ blacklistRules { companyDays } }",
    "customerVisitPlan": "query($user: ID!) { customerVisitPlan(customerId: $user) { customerId } }",
    "visits": "{ visits { nodes { id } } }",
    "dueVisits": "{ dueVisits { nodes { id } } }",
    "visitOverdueReport": "{ visitOverdueReport { total } }",
    "faults": "{ faults { nodes { id } } }",
    "faultSettings": "{ faultSettings { generalHours } }",
    "customerChangeRequests": "{ customerChangeRequests { nodes { id } } }",
    "customerChangeRequest": "query($user: ID!) { customerChangeRequest(id: $user) { id } }",
    "customerChangeSettings": "{ customerChangeSettings { slaWorkingDays } }",
    "customerReviewOverdue": "{ customerReviewOverdue { nodes { customerId } } }",
    "customerRequiredFields": "{ customerRequiredFields { fields } }",
    "customerDeletionRequests": "{ customerDeletionRequests { nodes { id } } }",
    "customerDeletionRequest": "query($user: ID!) { customerDeletionRequest(id: $user) { id } }",
    "customerDeletionSettings": "{ customerDeletionSettings { requiresApproval } }",
    "trainingCourses": "{ trainingCourses { nodes { id } } }",
    "employeeTraining": "query($user: ID!) { employeeTraining(userId: $user) { status } }",
    "trainingEmployees": "{ trainingEmployees { nodes { userId } } }",
    "trainingSettings": "{ trainingSettings { passScore } }",
    "pendingGrants": "{ pendingGrants { nodes { id } } }",
    "highRiskGrantPolicy": "{ highRiskGrantPolicy { enabled } }",
    "permissionReviews": "{ permissionReviews { nodes { id } } }",
    "exportDlpPolicy": "{ exportDlpPolicy { mode } }",
}


@pytest.fixture
def api_settings(settings: Settings) -> Settings:
    # No timer sweeps while a test runs: their work (a tenant's daily purge job, say) would land
    # in the middle of a before/after snapshot that proves a refused mutation changed nothing.
    return settings.model_copy(update={"rate_limit_anonymous_per_minute": 1000, "tick_interval_seconds": 3600})


@pytest.fixture
async def client(api_settings, seeded):
    async with AsyncTestClient(create_app(api_settings)) as test_client:
        yield test_client


async def gql(client, query: str, token: str | None = None, api_key: str | None = None, **variables):
    headers = {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    if api_key:
        headers["x-api-key"] = api_key
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    return response


async def login(client, tenant="acme", username="admin", password=PASSWORD) -> dict:
    body = (await gql(client, LOGIN, t=tenant, u=username, p=password)).json()
    return body["data"]["login"]


async def new_user(client, admin_token: str, username: str) -> str:
    """Create a user through the API (while the app runs, the API is the way in)."""
    body = (await gql(client, 'mutation($u: String!, $p: String!) { userCreate(input: {username: $u, '
                              'displayName: $u, password: $p}) { user { id } errors { code } } }',
                      admin_token, u=username, p=PASSWORD)).json()
    assert body["data"]["userCreate"]["errors"] == [], body
    return body["data"]["userCreate"]["user"]["id"]


def _columns(table: str) -> str:
    # The in-process worker moves outbox events along in the background; which events exist is
    # what a refused mutation must not change.
    return "id, event_type, aggregate_id" if table == "outbox_event" else "*"


# The register of refused attempts is the security log of the refusal itself, written on purpose
# after the refused work rolled back (tests/governance/test_refusals.py proves what it holds).
_REFUSAL_LOG = ("refused_attempt",)


async def _snapshot(settings: Settings) -> list:
    """Every row of every table, read beside the app, to prove a refused mutation changed nothing
    (no row, no audit entry, no job)."""
    if settings.database.is_sqlite:
        with sqlite3.connect(settings.database.sqlite_path) as connection:
            tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                      if r[0] not in _REFUSAL_LOG]
            return [(t, sorted(map(repr, connection.execute(f"SELECT {_columns(t)} FROM {t}").fetchall())))
                    for t in sorted(tables)]
    connection = await asyncpg.connect(settings.migrate_database.raw)
    try:
        tables = [r["tablename"] for r in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
                  if r["tablename"] not in _REFUSAL_LOG]
        # One round trip for every table (a snapshot per mutation of hundreds would otherwise cost minutes).
        query = " UNION ALL ".join(
            f"SELECT '{t}' AS t, coalesce(array_agg(x::text ORDER BY x::text), '{{}}') AS rows "
            f'FROM (SELECT {_columns(t)} FROM "{t}") x' for t in sorted(tables))
        return [(r["t"], list(r["rows"])) for r in await connection.fetch(query)]
    finally:
        await connection.close()


def test_every_mutation_is_either_protected_or_open_by_design(sqlite_settings):
    mutations = set(build_schema(sqlite_settings)._schema.mutation_type.fields)
    assert mutations == set(PROTECTED) | set(OPEN), "a new mutation needs a row in PROTECTED (or OPEN with a reason)"


async def test_each_mutation_without_its_permission_is_denied_and_changes_nothing(client, seeded, api_settings):
    admin_token = (await login(client))["accessToken"]
    await new_user(client, admin_token, "nobody")  # a user with no role at all
    target = await new_user(client, admin_token, "target")
    token = (await login(client, username="nobody"))["accessToken"]
    role_id = (await gql(client, "{ roles { nodes { id } } }", admin_token)).json()["data"]["roles"]["nodes"][0]["id"]
    department_id = (await gql(client, "{ departments { nodes { id } } }", admin_token)).json()["data"]["departments"]["nodes"][0]["id"]
    key = (await gql(client, 'mutation { apiKeyCreate(name: "existing", permissions: []) { apiKey { id } } }',
                     admin_token)).json()["data"]["apiKeyCreate"]["apiKey"]
    # Subscribed to an overdue loan, which never happens here, so no delivery runs in the background mid-snapshot.
    hook = (await gql(client, 'mutation { webhookEndpointCreate(url: "https://example.com/h", '
                              'eventTypes: ["archive.loan_overdue"]) { endpoint { id } } }',
                      admin_token)).json()["data"]["webhookEndpointCreate"]["endpoint"]
    # Enabled, so a denied verticalDisable or verticalParametersUpdate would have something to change.
    enabled = (await gql(client, PROTECTED["verticalEnable"], admin_token)).json()
    assert enabled["data"]["verticalEnable"]["errors"] == [], enabled
    # A property complaint (real estate enabled: its permissions go to the administrators' role).
    assert (await gql(client, PROTECTED["verticalEnable"].replace("automotive", "real_estate"),
                      admin_token)).json()["data"]["verticalEnable"]["errors"] == []
    admin_token = (await login(client))["accessToken"]
    made = (await gql(client, 'mutation { complaintIntake(input: {vertical: "real_estate", flow: "property_complaint", '
                              'category: "routine", severity: "normal", subject: "s", channel: "phone", '
                              'complainant: {name: "王"}}) { complaint { id } errors { code } } }', admin_token)).json()
    assert made["data"]["complaintIntake"]["errors"] == [], made
    # A customer and a proposed grade review of medical devices (enabled: its permissions go to the administrators).
    assert (await gql(client, PROTECTED["verticalEnable"].replace("automotive", "medical_devices"),
                      admin_token)).json()["data"]["verticalEnable"]["errors"] == []
    admin_token = (await login(client))["accessToken"]
    customer = (await gql(client, 'mutation($d: ID!) { customerCreate(input: {kind: "organisation", orgName: "医院", '
                                  'departmentId: $d}) { customer { id } errors { code } } }', admin_token,
                          d=department_id)).json()["data"]["customerCreate"]
    assert customer["errors"] == [], customer
    # Tobacco enabled too, so its mutations answer for the permission, not for the vertical.
    assert (await gql(client, PROTECTED["verticalEnable"].replace("automotive", "tobacco"),
                      admin_token)).json()["data"]["verticalEnable"]["errors"] == []
    admin_token = (await login(client))["accessToken"]
    review = (await gql(client, PROTECTED["gradeReviewPropose"], admin_token, department=department_id)).json()
    assert review["data"]["gradeReviewPropose"]["errors"] == [], review
    review = (await gql(client, 'query { gradeReviews(first: 1) { nodes { id } } }', admin_token)).json()
    ids = {"user": target, "role": role_id, "department": department_id, "key": key["id"], "hook": hook["id"],
           "complaint": made["data"]["complaintIntake"]["complaint"]["id"], "customer": customer["customer"]["id"],
           "review": review["data"]["gradeReviews"]["nodes"][0]["id"]}
    after = await _snapshot(api_settings)
    for name, document in PROTECTED.items():
        before = after  # what the last denied mutation left, read after it (half the snapshots)
        variables = {k: v for k, v in ids.items() if f"${k}" in document}
        body = (await gql(client, document, token, **variables)).json()
        assert body["data"][name]["errors"][0]["code"] == "PERMISSION_DENIED", (name, body)
        after = await _snapshot(api_settings)
        assert after == before, f"{name} changed something although it was denied"


async def test_anonymous_callers_are_told_to_sign_in(client, seeded):
    body = (await gql(client, PROTECTED["roleCreate"])).json()
    assert body["data"]["roleCreate"]["errors"][0]["code"] == "UNAUTHENTICATED"
    for name, document in PROTECTED_QUERIES.items():
        body = (await gql(client, document, user=str(seeded.acme.id))).json()
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", name


async def test_queries_without_their_permission_are_denied(client, seeded):
    await new_user(client, (await login(client))["accessToken"], "nobody")
    token = (await login(client, username="nobody"))["accessToken"]
    for name, document in PROTECTED_QUERIES.items():
        body = (await gql(client, document, token, user=str(seeded.acme.id))).json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED", name


async def test_login_answers_alike_for_unknown_user_and_wrong_password(client):
    unknown = await login(client, username="nobody-here")
    wrong = await login(client, password="not-the-password-1")
    assert unknown["errors"] == wrong["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert unknown["accessToken"] is None


async def test_signed_in_user_sees_own_tenant_only(client, seeded):
    token = (await login(client))["accessToken"]
    me = (await gql(client, "{ me { tenantId user { username } } users { edges { node { username } } } }", token)).json()
    assert me["data"]["me"] == {"tenantId": str(seeded.acme.id), "user": {"username": "admin"}}
    assert [e["node"]["username"] for e in me["data"]["users"]["edges"]] == ["admin"]


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer " + "e30." * 2, "Basic YWRtaW46YWRtaW4="])
async def test_bad_credentials_get_401(client, header):
    response = await client.post("/graphql", json={"query": "{ version }"}, headers={"authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"


async def test_alg_none_token_gets_401(client):
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': 'x', 'tid': 'y'})}."
    response = await client.post("/graphql", json={"query": "{ version }"}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_token_claiming_another_tenant_gets_401(client, seeded):
    claims = identity().tokens.verify_access((await login(client))["accessToken"])
    forged, _ = identity().tokens.issue_access(user_id=claims.user_id, tenant_id=seeded.globex.id,
                                               session_id=claims.session_id)
    response = await gql(client, "{ users { edges { node { id } } } }", forged)
    assert response.status_code == 401


async def test_logout_over_http_ends_the_token(client):
    token = (await login(client))["accessToken"]
    assert (await gql(client, "mutation { logout { ok } }", token)).json()["data"]["logout"]["ok"] is True
    assert (await gql(client, "{ me { tenantId } }", token)).status_code == 401


async def test_refresh_over_http_rotates_and_detects_reuse(client):
    first = await login(client)
    query = 'mutation($r: String!) { tokenRefresh(refreshToken: $r) { accessToken refreshToken errors { code } } }'
    second = (await gql(client, query, r=first["refreshToken"])).json()["data"]["tokenRefresh"]
    assert second["errors"] == [] and second["refreshToken"] != first["refreshToken"]
    again = (await gql(client, query, r=first["refreshToken"])).json()["data"]["tokenRefresh"]
    assert again["errors"] == [{"code": "TOKEN_REUSED"}]
    assert (await gql(client, "{ me { tenantId } }", second["accessToken"])).status_code == 401


async def test_api_key_over_http_reads_only_its_tenant(client, seeded):
    admin = (await login(client))["accessToken"]
    created = (await gql(client, 'mutation { apiKeyCreate(name: "erp", permissions: ["user.read"]) '
                                 '{ secret apiKey { hint permissions } errors { code } } }', admin)).json()
    secret = created["data"]["apiKeyCreate"]["secret"]
    assert created["data"]["apiKeyCreate"]["apiKey"]["permissions"] == ["user.read"]
    listed = (await gql(client, "{ me { apiKeyId user { id } } users { edges { node { username } } } }",
                        api_key=secret)).json()["data"]
    assert listed["me"]["user"] is None and listed["me"]["apiKeyId"]
    assert [e["node"]["username"] for e in listed["users"]["edges"]] == ["admin"]
    globex_user = await new_user(client, (await login(client, tenant="globex"))["accessToken"], "someone")
    body = (await gql(client, "query($u: ID!) { user(id: $u) { id } }", api_key=secret, u=globex_user)).json()
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    denied = (await gql(client, PROTECTED["roleCreate"], api_key=secret)).json()
    assert denied["data"]["roleCreate"]["errors"][0]["code"] == "PERMISSION_DENIED"


async def test_users_page_through_with_cursors(client, seeded):
    token = (await login(client))["accessToken"]
    for i in range(5):
        await new_user(client, token, f"user{i}")
    query = 'query($after: String) { users(first: 2, after: $after) { edges { node { username } } ' \
            'pageInfo { hasNextPage endCursor } } }'
    seen, after = [], None
    while True:
        page = (await gql(client, query, token, after=after)).json()["data"]["users"]
        seen += [e["node"]["username"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["admin", "user0", "user1", "user2", "user3", "user4"]
    too_big = (await gql(client, "{ users(first: 1000) { edges { cursor } } }", token)).json()
    assert too_big["errors"][0]["extensions"]["code"] == "PAGE_SIZE_TOO_LARGE"  # refused before it runs
    too_small = (await gql(client, "{ users(first: 0) { edges { cursor } } }", token)).json()
    assert too_small["errors"][0]["extensions"]["code"] == "PAGE_SIZE_INVALID"


async def test_rate_limit_headers_and_429(settings, seeded):
    limited = settings.model_copy(update={"rate_limit_anonymous_per_minute": 3})
    async with AsyncTestClient(create_app(limited)) as client:
        responses = [await client.post("/graphql", json={"query": "{ version }"}) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    # The draft's structured fields (issue 17 point 2; tests/gateway/test_rate_limits.py)
    assert responses[0].headers["ratelimit-policy"] == '"address";q=3;w=60'
    assert responses[0].headers["ratelimit"].startswith('"address";r=2;t=')


async def test_each_tenant_has_its_own_rate_budget(settings, seeded):
    limited = settings.model_copy(update={"rate_limit_per_minute": 4, "rate_limit_anonymous_per_minute": 1000})
    async with AsyncTestClient(create_app(limited)) as client:
        acme = (await login(client))["accessToken"]
        globex = (await login(client, tenant="globex"))["accessToken"]
        acme_codes = [(await gql(client, "{ version }", acme)).status_code for _ in range(5)]
        globex_code = (await gql(client, "{ version }", globex)).status_code
    assert acme_codes == [200, 200, 200, 200, 429]
    assert globex_code == 200


async def test_a_date_time_without_its_offset_is_refused_with_a_code_not_a_crash(client):
    token = (await login(client))["accessToken"]
    create = 'mutation($at: DateTime!) { apiKeyCreate(name: "k", permissions: [], expiresAt: $at) { secret errors { code } } }'
    naive = (await gql(client, create, token, at="2030-01-01T00:00:00")).json()
    assert naive.get("data") is None and naive["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "offset" in naive["errors"][0]["message"]
    literal = (await gql(client, 'mutation { apiKeyCreate(name: "k", permissions: [], '
                                 'expiresAt: "2030-01-01T00:00:00") { secret } }', token)).json()
    assert literal["errors"][0]["extensions"]["code"] != "INTERNAL_ERROR"
    aware = (await gql(client, create, token, at="2030-01-01T08:00:00+08:00")).json()
    assert aware["data"]["apiKeyCreate"]["secret"] and aware["data"]["apiKeyCreate"]["errors"] == []
