/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
export type AddressInput = {
  city?: string | null | undefined;
  county?: string | null | undefined;
  houseNumber?: string | null | undefined;
  province?: string | null | undefined;
  street?: string | null | undefined;
  village?: string | null | undefined;
};

export type AuditFilterInput = {
  action?: string | null | undefined;
  actor?: string | null | undefined;
  since?: string | null | undefined;
  targetId?: string | null | undefined;
  targetType?: string | null | undefined;
  until?: string | null | undefined;
};

export type BlacklistEvidenceInput = {
  reference?: string | null | undefined;
  text?: string | null | undefined;
};

export type BlacklistProposeInput = {
  customerId: string;
  /** For a DEPARTMENT entry. */
  departmentId?: string | null | undefined;
  evidence: Array<BlacklistEvidenceInput>;
  reason: string;
  scheme?: string | null | undefined;
  scope: BlacklistScope;
  /** A validity shorter than the default, in days (MD15: may be shortened, never lengthened). */
  validityDays?: number | null | undefined;
  /** With scheme: the grading scheme whose blacklist scopes and validity apply. */
  vertical?: string | null | undefined;
};

/** Where a blacklist entry applies: COMPANY (every department, 公司黑名单) or DEPARTMENT (one department, 部门黑名单). */
export type BlacklistScope =
  | 'COMPANY'
  | 'DEPARTMENT';

/** PROPOSED (blocks nothing yet), ACTIVE (in force until its expiry), REJECTED, LIFTED (ended early, with a reason), EXPIRED (ended by the tick at its expiry). */
export type BlacklistState =
  | 'ACTIVE'
  | 'EXPIRED'
  | 'LIFTED'
  | 'PROPOSED'
  | 'REJECTED';

/** The person complaining when not a customer (sealed, masked when read). */
export type ComplainantInput = {
  address?: string | null | undefined;
  name: string;
  phone?: string | null | undefined;
};

export type ComplaintIntakeInput = {
  archiveId?: string | null | undefined;
  /** A list of attachment references. */
  attachments?: any;
  category: string;
  /** phone | email | visit | letter | online */
  channel: string;
  /** When not a customer. */
  complainant?: ComplainantInput | null | undefined;
  customerId?: string | null | undefined;
  departmentId?: string | null | undefined;
  flow: string;
  /** The case this one follows up. */
  previousId?: string | null | undefined;
  severity: string;
  /** external | internal */
  source?: string;
  subject: string;
  vertical: string;
};

/** Fields of a customer. On update, fields left out keep their value and null clears one. */
export type CustomerInput = {
  accessLevel?: number | null | undefined;
  address?: AddressInput | null | undefined;
  business?: any;
  credit?: any;
  departmentId?: string | null | undefined;
  emails?: Array<string> | null | undefined;
  extensions?: any;
  givenName?: string | null | undefined;
  identifier?: IdentifierInput | null | undefined;
  isKey?: boolean | null | undefined;
  kind?: string | null | undefined;
  legalRepresentative?: string | null | undefined;
  needs?: any;
  orgName?: string | null | undefined;
  other?: any;
  ownerId?: string | null | undefined;
  phones?: Array<string> | null | undefined;
  sourceChannel?: string | null | undefined;
  status?: string | null | undefined;
  surname?: string | null | undefined;
  tags?: Array<string> | null | undefined;
};

/** A grade given by hand in a review run (a rule set applied by a person). */
export type GradeProposalInput = {
  customerId: string;
  grade: string;
};

export type IdentifierInput = {
  number: string;
  type: string;
};

/** What a ledger entry records (the ledger is append-only: CONFIRMATION and CORRECTION name the entry they concern; DISPUTE_DECISION comes only from an approved dispute). */
export type LedgerKind =
  | 'CONFIRMATION'
  | 'CORRECTION'
  | 'DEAL'
  | 'DEAL_CHANGE'
  | 'DISPUTE_DECISION'
  | 'FOLLOW_UP'
  | 'PHONE_INQUIRY'
  | 'PRE_DECLARATION'
  | 'RECOGNITION'
  | 'REGISTRATION'
  | 'TRANSFER'
  | 'VISIT';

/** Over which records a permission holds. */
export type PermissionScope =
  | 'DEPARTMENT'
  | 'OWN'
  | 'TENANT';

/** A special change (Art9–Art14) */
export type TobaccoChangeKind =
  | 'DUPLICATE_PHONE'
  | 'GRADE'
  | 'LONG_TERM_PHONE'
  | 'ORDERING_METHOD'
  | 'SETTLEMENT_BANK'
  | 'SETTLEMENT_TO_CASH'
  | 'URGENT_ROUTE';

/** Who signs a special change */
export type TobaccoSignOffRole =
  | 'ACCOUNT_MANAGER'
  | 'DEPUTY_MANAGER'
  | 'DEPUTY_SECTION_CHIEF'
  | 'SECTION_CHIEF';

export type UserCreateInput = {
  departmentIds?: Array<string>;
  displayName: string;
  employeeNo?: string | null | undefined;
  password: string;
  roleIds?: Array<string>;
  username: string;
};

export type VerticalParameterInput = {
  key: string;
  /** null restores the default. */
  value?: any;
};

export type VisitRecordInput = {
  /** on_site | phone */
  channel: string;
  customerId: string;
  report: VisitReportInput;
  /** When the visit took place (not in the future). */
  visitedAt: string;
};

/** The summary report (MD28): at least one of the three, each at most 4000 characters. */
export type VisitReportInput = {
  needs?: string | null | undefined;
  opinions?: string | null | undefined;
  suggestions?: string | null | undefined;
};

export type AccessRequestsQueryVariables = Exact<{ [key: string]: never; }>;


export type AccessRequestsQuery = { accessRequests: { nodes: Array<{ id: string, purpose: string, state: string, expiresAt: string | null, usedAt: string | null }> } };

export type ApiKeysQueryVariables = Exact<{ [key: string]: never; }>;


export type ApiKeysQuery = { apiKeys: { nodes: Array<{ id: string, name: string, hint: string, permissions: Array<string>, createdAt: string, expiresAt: string | null, lastUsedAt: string | null, revokedAt: string | null }> } };

export type ArchiveAcceptMutationVariables = Exact<{
  id: string;
}>;


export type ArchiveAcceptMutation = { archiveAccept: { archive: { id: string, state: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ArchiveCheckMutationVariables = Exact<{
  id: string;
}>;


export type ArchiveCheckMutation = { archiveCheck: { archive: { id: string, state: string, checkRound: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ArchiveDetailQueryVariables = Exact<{
  id: string;
}>;


export type ArchiveDetailQuery = { archive: { id: string, folderId: string, vertical: string, standard: string, state: string, facts: any, submittedBy: string | null, submittedAt: string | null, checkedBy: string | null, deadlineAt: string | null, provisional: boolean, rejections: number, checkRound: number, submissionDueAt: string | null, submittedPunctually: boolean | null, extendedUntil: string | null, damagedAt: string | null, damageNote: string | null, documents: Array<{ code: string, position: number, fields: any }>, checkResults: Array<{ id: string, round: number, ruleCode: string, kind: string, status: string, document: string | null, field: string | null, messageEn: string, messageZh: string, overrideReason: string | null, overriddenBy: string | null }>, transitions: Array<{ fromState: string | null, toState: string, actor: string, at: string, note: string }> } };

export type ArchiveFolderQueryVariables = Exact<{
  id: string;
}>;


export type ArchiveFolderQuery = { archiveFolder: { id: string, vertical: string, subjectKind: string, subjectKey: string, facts: any, ownerCustomerId: string | null, contactCustomerId: string | null, retentionUntil: string | null, retentionRule: string | null, sealedAt: string | null, createdAt: string } };

export type ArchiveFoldersQueryVariables = Exact<{
  vertical?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ArchiveFoldersQuery = { archiveFolders: { nodes: Array<{ id: string, subjectKind: string, subjectKey: string, facts: any, ownerCustomerId: string | null, retentionUntil: string | null, sealedAt: string | null, createdAt: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ArchiveKpiLedgerQueryVariables = Exact<{
  from?: string | null | undefined;
  to?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ArchiveKpiLedgerQuery = { kpiLedger: { nodes: Array<{ id: string, userId: string, vertical: string, points: number, fineCny: number, ruleCode: string, archiveId: string | null, subjectKey: string | null, reason: string, at: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ArchiveRejectMutationVariables = Exact<{
  id: string;
  defects?: Array<string> | string | null | undefined;
}>;


export type ArchiveRejectMutation = { archiveReject: { archive: { id: string, state: string, deadlineAt: string | null } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ArchiveRuleOverrideMutationVariables = Exact<{
  resultId: string;
  reason: string;
}>;


export type ArchiveRuleOverrideMutation = { archiveRuleOverride: { archive: { id: string, state: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ArchivesQueryVariables = Exact<{
  state?: string | null | undefined;
  standard?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type ArchivesQuery = { archives: { nodes: Array<{ id: string, folderId: string, vertical: string, standard: string, state: string, submittedBy: string | null, submittedAt: string | null, checkRound: number, rejections: number, deadlineAt: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type AuditEntriesQueryVariables = Exact<{
  filter?: AuditFilterInput | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type AuditEntriesQuery = { auditEntries: { nodes: Array<{ seq: number, occurredAt: string, actor: string, action: string, targetType: string, targetId: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type AuditVerifyQueryVariables = Exact<{ [key: string]: never; }>;


export type AuditVerifyQuery = { auditVerify: { ok: boolean, checked: number, position: number | null, kind: string | null } };

export type ComplaintClocksQueryVariables = Exact<{
  id: string;
}>;


export type ComplaintClocksQuery = { complaintTimeline: { clocks: Array<{ timer: string, kind: string, role: string | null, status: string, dueAt: string, breachedAt: string | null, pausedAt: string | null, stoppedAt: string | null, provisional: boolean }> } };

export type ComplaintFlowsQueryVariables = Exact<{ [key: string]: never; }>;


export type ComplaintFlowsQuery = { complaintFlows: Array<{ vertical: string, id: string, nameEn: string, nameZh: string, categories: Array<string>, severities: Array<string>, initial: string, intakePermission: string | null, readPermission: string | null, states: Array<{ code: string, nameEn: string, nameZh: string, terminal: boolean, paused: boolean }>, transitions: Array<{ source: string, target: string, action: string, permission: string | null, requiredFields: Array<string>, branches: Array<string>, record: string | null }>, roles: Array<{ code: string, nameEn: string, nameZh: string }>, timers: Array<{ code: string, nameEn: string, nameZh: string }> }> };

export type ComplaintIntakeMutationVariables = Exact<{
  input: ComplaintIntakeInput;
}>;


export type ComplaintIntakeMutation = { complaintIntake: { complaint: { id: string, number: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ComplaintReportQueryVariables = Exact<{
  flow?: string | null | undefined;
  vertical?: string | null | undefined;
  since?: string | null | undefined;
  until?: string | null | undefined;
  lossField: string;
}>;


export type ComplaintReportQuery = { complaintReport: { at: string, since: string | null, until: string | null, timezone: string, complaints: number, onTime: Array<{ vertical: string, flow: string, timer: string, kind: string, onTime: number, breached: number, pending: number, onTimeRate: number | null }>, volumes: Array<{ vertical: string, flow: string, category: string, severity: string, complaints: number, open: number }>, overdue: Array<{ departmentId: string | null, department: string | null, complaints: number, clocks: number }>, weekly: Array<{ period: string, start: string, opened: number, closed: number, onTime: number, breached: number, onTimeRate: number | null }>, monthly: Array<{ period: string, start: string, opened: number, closed: number, onTime: number, breached: number, onTimeRate: number | null }>, losses: Array<{ departmentId: string | null, department: string | null, complaints: number, total: string, unreadable: number }> } };

export type ComplaintResumeMutationVariables = Exact<{
  id: string;
}>;


export type ComplaintResumeMutation = { complaintResume: { complaint: { id: string, state: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ComplaintTimelineQueryVariables = Exact<{
  id: string;
}>;


export type ComplaintTimelineQuery = { complaintTimeline: { complaint: { id: string, number: string, vertical: string, flow: string, state: string, category: string, severity: string, branch: string | null, source: string, channel: string, subject: string, customerId: string | null, firstResponder: string, openedAt: string, closedAt: string | null, version: number, fields: any, availableActions: Array<string>, complainant: { name: string | null, phone: string | null, address: string | null } | null }, clocks: Array<{ timer: string, kind: string, role: string | null, status: string, startedAt: string, dueAt: string, hardDueAt: string | null, breachedAt: string | null, pausedAt: string | null, stoppedAt: string | null, provisional: boolean }>, events: Array<{ at: string, actor: string, kind: string, action: string | null, fromState: string | null, toState: string | null, timer: string | null, detail: any }> } };

export type ComplaintTransitionMutationVariables = Exact<{
  id: string;
  action: string;
  fields?: any;
  version?: number | null | undefined;
}>;


export type ComplaintTransitionMutation = { complaintTransition: { complaint: { id: string, state: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ComplaintsQueryVariables = Exact<{
  open: boolean;
  first: number;
  after?: string | null | undefined;
}>;


export type ComplaintsQuery = { complaints: { nodes: Array<{ id: string, number: string, vertical: string, flow: string, state: string, category: string, severity: string, channel: string, subject: string, customerId: string | null, openedAt: string, closedAt: string | null, complainant: { name: string | null, phone: string | null } | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type CustomerQueryVariables = Exact<{
  id: string;
}>;


export type CustomerQuery = { customer: { id: string, version: number, kind: string, status: string, displayName: string, surname: string | null, givenName: string | null, orgName: string | null, legalRepresentative: string | null, phones: Array<string>, emails: Array<string>, tags: Array<string>, sourceChannel: string | null, updatedAt: string, createdBy: string, identifier: { type: string, number: string } | null, owner: { id: string, displayName: string } | null } };

export type CustomerConsentsQueryVariables = Exact<{
  customerId: string;
}>;


export type CustomerConsentsQuery = { customerConsents: { nodes: Array<{ purpose: string, granted: boolean, latest: { action: string, recordedAt: string } | null }> } };

export type CustomerCreateMutationVariables = Exact<{
  input: CustomerInput;
}>;


export type CustomerCreateMutation = { customerCreate: { customer: { id: string } | null, duplicates: Array<{ customerId: string }>, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomerExportLinkMutationVariables = Exact<{
  jobId: string;
}>;


export type CustomerExportLinkMutation = { customerExportLink: { url: string | null, expiresAt: string | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomerExportStartMutationVariables = Exact<{
  accessRequestId: string;
}>;


export type CustomerExportStartMutation = { customerExportStart: { job: { id: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomerHistoryQueryVariables = Exact<{
  id: string;
  first: number;
}>;


export type CustomerHistoryQuery = { customerHistory: { nodes: Array<{ version: number, changedAt: string, actor: string, reason: string, changes: any }> } };

export type CustomerImportStartMutationVariables = Exact<{
  file: string;
  filename: string;
}>;


export type CustomerImportStartMutation = { customerImportStart: { job: { id: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomerMergeMutationVariables = Exact<{
  survivorId: string;
  mergedId: string;
  reason: string;
}>;


export type CustomerMergeMutation = { customerMerge: { merge: { id: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomerMergesQueryVariables = Exact<{
  id: string;
}>;


export type CustomerMergesQuery = { customerMerges: { nodes: Array<{ id: string, survivorId: string, mergedId: string, reason: string, actor: string, createdAt: string, undoUntil: string, undoneAt: string | null }> } };

export type CustomerUnmaskMutationVariables = Exact<{
  id: string;
  fields: Array<string> | string;
  reason: string;
}>;


export type CustomerUnmaskMutation = { customerUnmask: { values: any, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomerUnmergeMutationVariables = Exact<{
  mergeId: string;
}>;


export type CustomerUnmergeMutation = { customerUnmerge: { merge: { id: string, undoneAt: string | null } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomerUpdateMutationVariables = Exact<{
  id: string;
  version: number;
  input: CustomerInput;
  reason: string;
}>;


export type CustomerUpdateMutation = { customerUpdate: { customer: { id: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type CustomersQueryVariables = Exact<{
  text?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type CustomersQuery = { customers: { nodes: Array<{ id: string, kind: string, status: string, displayName: string, phones: Array<string>, updatedAt: string, version: number, identifier: { type: string, number: string } | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type GradingBlacklistApproveMutationVariables = Exact<{
  id: string;
  version: number;
  note?: string | null | undefined;
}>;


export type GradingBlacklistApproveMutation = { blacklistApprove: { entry: { id: string, state: BlacklistState, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingBlacklistEntriesQueryVariables = Exact<{
  state?: BlacklistState | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type GradingBlacklistEntriesQuery = { blacklistEntries: { nodes: Array<{ id: string, customerId: string, scope: BlacklistScope, departmentId: string | null, state: BlacklistState, inForce: boolean, reason: string, proposedBy: string, proposedAt: string, expiresAt: string | null, version: number }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type GradingBlacklistEntryQueryVariables = Exact<{
  id: string;
}>;


export type GradingBlacklistEntryQuery = { blacklistEntry: { id: string, customerId: string, scope: BlacklistScope, departmentId: string | null, state: BlacklistState, inForce: boolean, reason: string, proposedBy: string, proposedAt: string, approvedBy: string | null, approvedAt: string | null, startsAt: string | null, expiresAt: string | null, validityDays: number | null, endedAt: string | null, endedBy: string | null, endReason: string | null, version: number, evidence: Array<{ text: string | null, reference: string | null }> } };

export type GradingBlacklistLiftMutationVariables = Exact<{
  id: string;
  version: number;
  reason: string;
}>;


export type GradingBlacklistLiftMutation = { blacklistLift: { entry: { id: string, state: BlacklistState, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingBlacklistProposeMutationVariables = Exact<{
  input: BlacklistProposeInput;
}>;


export type GradingBlacklistProposeMutation = { blacklistPropose: { entry: { id: string, state: BlacklistState } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingBlacklistRejectMutationVariables = Exact<{
  id: string;
  version: number;
  reason: string;
}>;


export type GradingBlacklistRejectMutation = { blacklistReject: { entry: { id: string, state: BlacklistState, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingCustomerNameQueryVariables = Exact<{
  id: string;
}>;


export type GradingCustomerNameQuery = { customer: { id: string, displayName: string } };

export type GradingCustomersQueryVariables = Exact<{
  text?: string | null | undefined;
  departmentId?: string | null | undefined;
  first: number;
}>;


export type GradingCustomersQuery = { customers: { nodes: Array<{ id: string, displayName: string, departmentId: string | null }>, pageInfo: { hasNextPage: boolean } } };

export type GradingDepartmentsQueryVariables = Exact<{ [key: string]: never; }>;


export type GradingDepartmentsQuery = { departments: { nodes: Array<{ id: string, name: string }> } };

export type GradingJobQueryVariables = Exact<{
  id: string;
}>;


export type GradingJobQuery = { job: { id: string, status: string, progressDone: number, progressTotal: number | null, result: string | null, errorCode: string | null, errorMessage: string | null } };

export type GradingReviewQueryVariables = Exact<{
  id: string;
  first: number;
  after?: string | null | undefined;
}>;


export type GradingReviewQuery = { gradeReview: { id: string, vertical: string, scheme: string, scopeKey: string, status: string, proposedBy: string, proposedAt: string, approvedBy: string | null, approvedAt: string | null, publishedAt: string | null, whatIf: { population: number, proposalCount: number, changeCount: number, publishable: boolean, violations: Array<{ grade: string, capPercent: string, count: number, population: number, percent: string, soft: boolean, customerCount: number, customerIds: Array<string> }>, changes: { nodes: Array<{ customerId: string, fromGrade: string | null, toGrade: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } } } };

export type GradingReviewApproveMutationVariables = Exact<{
  id: string;
}>;


export type GradingReviewApproveMutation = { gradeReviewApprove: { review: { id: string, status: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingReviewProposeMutationVariables = Exact<{
  vertical: string;
  scheme: string;
  scopeId?: string | null | undefined;
  proposals?: Array<GradeProposalInput> | GradeProposalInput | null | undefined;
}>;


export type GradingReviewProposeMutation = { gradeReviewPropose: { review: { id: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingReviewPublishMutationVariables = Exact<{
  id: string;
}>;


export type GradingReviewPublishMutation = { gradeReviewPublish: { review: { id: string, status: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingReviewPublishStartMutationVariables = Exact<{
  id: string;
}>;


export type GradingReviewPublishStartMutation = { gradeReviewPublishStart: { job: { id: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingReviewStartMutationVariables = Exact<{
  vertical: string;
  scheme: string;
  scopeId?: string | null | undefined;
}>;


export type GradingReviewStartMutation = { gradeReviewStart: { job: { id: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingReviewsQueryVariables = Exact<{
  first: number;
  after?: string | null | undefined;
  status?: string | null | undefined;
}>;


export type GradingReviewsQuery = { gradeReviews: { nodes: Array<{ id: string, vertical: string, scheme: string, scopeKey: string, status: string, proposedBy: string, proposedAt: string, approvedBy: string | null, approvedAt: string | null, publishedAt: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type GradingVisitPlanSetMutationVariables = Exact<{
  customerId: string;
  vertical: string;
  grade?: string | null | undefined;
}>;


export type GradingVisitPlanSetMutation = { visitPlanSet: { schedules: Array<{ id: string, planId: string, dueAt: string }> | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingVisitRecordMutationVariables = Exact<{
  input: VisitRecordInput;
}>;


export type GradingVisitRecordMutation = { visitRecord: { visit: { id: string, customerId: string, planIds: Array<string>, channel: string, visitedAt: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type GradingVisitsDueQueryVariables = Exact<{
  until?: string | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type GradingVisitsDueQuery = { dueVisits: { nodes: Array<{ id: string, customerId: string, planId: string, grade: string | null, channel: string, priority: number, ownerId: string | null, departmentId: string | null, status: string, dueAt: string, lastVisitAt: string | null, overdueAt: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } }, visitOverdueReport: { total: number, groups: Array<{ departmentId: string | null, ownerId: string | null, count: number, customerIds: Array<string>, oldestDueAt: string }> } };

export type JobQueryVariables = Exact<{
  id: string;
}>;


export type JobQuery = { job: { id: string, kind: string, status: string, progressDone: number, progressTotal: number | null, progressPercent: number | null, result: string | null, errorCode: string | null, errorMessage: string | null, downloadUrl: string | null } };

export type LoginMutationVariables = Exact<{
  tenant: string;
  username: string;
  password: string;
  totpCode?: string | null | undefined;
}>;


export type LoginMutation = { login: { accessToken: string | null, refreshToken: string | null, mustChangePassword: boolean, totpEnrolmentRequired: boolean, errors: Array<{ code: string, field: string | null, message: string }> } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { tenantId: string, user: { id: string, username: string, displayName: string } | null, permissions: Array<{ permission: string, scope: PermissionScope }> }, tenantVerticals: Array<{ id: string, nameZh: string, nameEn: string, enabled: boolean }> };

export type PasswordChangeMutationVariables = Exact<{
  currentPassword: string;
  newPassword: string;
}>;


export type PasswordChangeMutation = { passwordChange: { ok: boolean, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionAcknowledgeMutationVariables = Exact<{
  office: string;
}>;


export type ReceptionAcknowledgeMutation = { realEstateSalesControlAcknowledge: { queue: { id: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionArriveMutationVariables = Exact<{
  office: string;
  firstVisit: boolean;
  customerId?: string | null | undefined;
  note?: string | null | undefined;
}>;


export type ReceptionArriveMutation = { realEstateReceptionArrive: { arrival: { id: string, status: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionAttributionQueryVariables = Exact<{
  customerId: string;
}>;


export type ReceptionAttributionQuery = { attributionDecision: { customerId: string, ownerId: string | null, rule: string, explanationEn: string, explanationZh: string, facts: any, entries: Array<string>, owner: { id: string, displayName: string | null } | null, shares: Array<{ consultantId: string, percent: number }>, deals: Array<{ dealId: string, rule: string, explanationEn: string, explanationZh: string, shares: Array<{ consultantId: string, percent: number }> }> } };

export type ReceptionCancelMutationVariables = Exact<{
  arrivalId: string;
  reason?: string | null | undefined;
}>;


export type ReceptionCancelMutation = { realEstateReceptionCancel: { arrival: { id: string, status: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionConsultantQueryVariables = Exact<{
  id: string;
}>;


export type ReceptionConsultantQuery = { user: { id: string, displayName: string } };

export type ReceptionCustomerNameQueryVariables = Exact<{
  id: string;
}>;


export type ReceptionCustomerNameQuery = { customer: { id: string, displayName: string } };

export type ReceptionCustomerSearchQueryVariables = Exact<{
  text: string;
}>;


export type ReceptionCustomerSearchQuery = { customers: { nodes: Array<{ id: string, displayName: string, kind: string, status: string }> } };

export type ReceptionEligibilityMutationVariables = Exact<{
  office: string;
  consultantId: string;
  eligible: boolean;
  reason?: string | null | undefined;
}>;


export type ReceptionEligibilityMutation = { realEstateReceptionEligibility: { queue: { id: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionEndMutationVariables = Exact<{
  receptionId: string;
  customerId?: string | null | undefined;
}>;


export type ReceptionEndMutation = { realEstateReceptionEnd: { reception: { id: string, status: string, endedAt: string | null } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionLedgerQueryVariables = Exact<{
  customerId: string;
  first: number;
  after?: string | null | undefined;
}>;


export type ReceptionLedgerQuery = { attributionLedger: { nodes: Array<{ id: string, seq: number, kind: LedgerKind, at: string, consultantId: string | null, data: any, refersTo: string | null, recordedBy: string, recordedAt: string }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ReceptionNextMutationVariables = Exact<{
  office: string;
}>;


export type ReceptionNextMutation = { realEstateReceptionNext: { reception: { id: string, consultantId: string, kind: string, rule: string, counted: boolean } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionOwnerNameQueryVariables = Exact<{
  customerId: string;
}>;


export type ReceptionOwnerNameQuery = { attributionDecision: { owner: { id: string, displayName: string | null } | null } };

export type ReceptionOwnersQueryVariables = Exact<{
  valid?: boolean | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type ReceptionOwnersQuery = { attributionOwners: { nodes: Array<{ customerId: string, ownerId: string | null, validUntil: string | null, decidedAt: string, decision: { rule: string, owner: { id: string, displayName: string | null } | null } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ReceptionQueueQueryVariables = Exact<{
  office: string;
}>;


export type ReceptionQueueQuery = { me: { user: { id: string, displayName: string } | null }, realEstateQueue: { id: string, office: string, day: string, version: number, turn: string | null, lastInSchedule: string | null, members: Array<{ consultantId: string, position: number, signedInAt: string, salesControlAcknowledged: boolean, eligible: boolean, eligibilityReason: string | null, lostTurns: number, priorityTurns: number, countedReceptions: number, busyWith: string | null }>, waiting: Array<{ id: string, customerId: string | null, firstVisit: boolean, note: string | null, arrivedAt: string, status: string }>, active: Array<{ id: string, arrivalId: string, customerId: string | null, consultantId: string, kind: string, counted: boolean, rule: string, onBehalfOf: string | null, status: string, startedAt: string }> } | null };

export type ReceptionReceptionsQueryVariables = Exact<{
  office: string;
  from: string;
  to: string;
  first: number;
  after?: string | null | undefined;
}>;


export type ReceptionReceptionsQuery = { realEstateReceptions: { nodes: Array<{ id: string, customerId: string | null, consultantId: string, kind: string, counted: boolean, rule: string, onBehalfOf: string | null, status: string, startedAt: string, endedAt: string | null, visitEntryId: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type ReceptionRegisterConfirmMutationVariables = Exact<{
  office: string;
  day: string;
}>;


export type ReceptionRegisterConfirmMutation = { realEstateRegisterConfirm: { confirmed: number, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionSignInMutationVariables = Exact<{
  office: string;
}>;


export type ReceptionSignInMutation = { realEstateReceptionSignIn: { queue: { id: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type ReceptionSkipMutationVariables = Exact<{
  office: string;
  consultantId: string;
}>;


export type ReceptionSkipMutation = { realEstateReceptionSkip: { queue: { id: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsQuery = { users: { nodes: Array<{ id: string, username: string, displayName: string, employeeNo: string | null, status: string, clearance: number, departmentIds: Array<string>, roleIds: Array<string>, lastLoginAt: string | null }> }, roles: { nodes: Array<{ id: string, name: string, description: string, permissions: Array<{ permission: string, scope: PermissionScope }> }> }, tenantVerticals: Array<{ id: string, nameZh: string, nameEn: string, enabled: boolean, version: number, parameters: Array<{ key: string, kind: string, value: any, default: any, overridden: boolean, minimum: number | null, maximum: number | null, unit: string, choices: Array<string>, helpEn: string, helpZh: string }> }> };

export type SettingsApiKeyCreateMutationVariables = Exact<{
  name: string;
  permissions: Array<string> | string;
  expiresAt?: string | null | undefined;
}>;


export type SettingsApiKeyCreateMutation = { apiKeyCreate: { secret: string | null, apiKey: { id: string, name: string, hint: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsApiKeyRevokeMutationVariables = Exact<{
  id: string;
}>;


export type SettingsApiKeyRevokeMutation = { apiKeyRevoke: { apiKey: { id: string, revokedAt: string | null } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsDirectoryQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsDirectoryQuery = { departments: { nodes: Array<{ id: string, name: string, code: string | null, parentId: string | null }> }, permissions: Array<{ name: string, descriptionZh: string, descriptionEn: string }> };

export type SettingsUserCreateMutationVariables = Exact<{
  input: UserCreateInput;
}>;


export type SettingsUserCreateMutation = { userCreate: { user: { id: string, username: string, displayName: string, roleIds: Array<string>, departmentIds: Array<string> } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsUserDisableMutationVariables = Exact<{
  id: string;
  reason: string;
  successorId?: string | null | undefined;
}>;


export type SettingsUserDisableMutation = { userDisable: { user: { id: string, status: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsUserEnableMutationVariables = Exact<{
  id: string;
}>;


export type SettingsUserEnableMutation = { userEnable: { user: { id: string, status: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsUserPasswordResetMutationVariables = Exact<{
  id: string;
  newPassword: string;
}>;


export type SettingsUserPasswordResetMutation = { userPasswordReset: { ok: boolean, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsVerticalParametersUpdateMutationVariables = Exact<{
  verticalId: string;
  parameters: Array<VerticalParameterInput> | VerticalParameterInput;
  expectedVersion?: number | null | undefined;
}>;


export type SettingsVerticalParametersUpdateMutation = { verticalParametersUpdate: { vertical: { id: string, version: number } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsWebhookCreateMutationVariables = Exact<{
  url: string;
  eventTypes: Array<string> | string;
  description: string;
}>;


export type SettingsWebhookCreateMutation = { webhookEndpointCreate: { secret: string | null, endpoint: { id: string, url: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SettingsWebhookDeleteMutationVariables = Exact<{
  id: string;
}>;


export type SettingsWebhookDeleteMutation = { webhookEndpointDelete: { ok: boolean, errors: Array<{ code: string, field: string | null, message: string }> } };

export type SignInPolicyQueryVariables = Exact<{ [key: string]: never; }>;


export type SignInPolicyQuery = { signInPolicy: { totpRequired: boolean, totpRequiredRoles: Array<string>, staffNetworks: Array<string>, apiKeyNetworks: Array<string>, challengeAfterFailures: number } };

export type TobaccoChangeQueryVariables = Exact<{
  id: string;
}>;


export type TobaccoChangeQuery = { tobaccoChange: { id: string, customerId: string, kind: string, state: string, applicationRef: string, reason: string, requestedBy: string, requestedAt: string, firstRole: string | null, firstBy: string | null, firstAt: string | null, secondRole: string | null, secondBy: string | null, secondAt: string | null, rejectedBy: string | null, executeDueAt: string | null, executedBy: string | null, executedAt: string | null, filedBy: string | null, filedAt: string | null, filingRequired: boolean, visitedAt: string | null, visitDueAt: string | null } | null };

export type TobaccoChangeExecuteMutationVariables = Exact<{
  id: string;
}>;


export type TobaccoChangeExecuteMutation = { tobaccoChangeExecute: { change: { id: string, state: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type TobaccoChangeFileMutationVariables = Exact<{
  id: string;
}>;


export type TobaccoChangeFileMutation = { tobaccoChangeFile: { change: { id: string, state: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type TobaccoChangeRequestMutationVariables = Exact<{
  customerId: string;
  kind: TobaccoChangeKind;
  applicationRef: string;
  reason: string;
  values?: any;
}>;


export type TobaccoChangeRequestMutation = { tobaccoChangeRequest: { change: { id: string, state: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type TobaccoChangeSignMutationVariables = Exact<{
  id: string;
  role: TobaccoSignOffRole;
  approve: boolean;
  note?: string | null | undefined;
}>;


export type TobaccoChangeSignMutation = { tobaccoChangeSign: { change: { id: string, state: string } | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type TobaccoChangesQueryVariables = Exact<{
  state?: string | null | undefined;
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type TobaccoChangesQuery = { tobaccoChanges: { nodes: Array<{ id: string, customerId: string, kind: string, state: string, applicationRef: string, reason: string, requestedBy: string, requestedAt: string, firstRole: string | null, firstBy: string | null, secondRole: string | null, secondBy: string | null, executeDueAt: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type TobaccoCustomerNameQueryVariables = Exact<{
  id: string;
}>;


export type TobaccoCustomerNameQuery = { customer: { id: string, displayName: string } };

export type TobaccoOnboardingQueryVariables = Exact<{
  customerId: string;
}>;


export type TobaccoOnboardingQuery = { tobaccoOnboarding: { customerId: string, licenceDate: string, dayOne: string, steps: Array<{ step: string, dueAt: string, state: string, checkedAt: string | null, missingThen: Array<string>, missingNow: Array<string> }> } | null };

export type TobaccoOnboardingOverdueQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type TobaccoOnboardingOverdueQuery = { tobaccoOnboardingOverdue: { nodes: Array<{ id: string, customerId: string, step: string, dueAt: string, checkedAt: string | null, missing: Array<string> }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type TobaccoRetailersQueryVariables = Exact<{ [key: string]: never; }>;


export type TobaccoRetailersQuery = { customers: { nodes: Array<{ id: string, displayName: string, extensions: any }> } };

export type TobaccoWatchListQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
}>;


export type TobaccoWatchListQuery = { tobaccoWatchList: { nodes: Array<{ customerId: string, addedAt: string, lastChangeAt: string, changes: number }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type TokenRefreshMutationVariables = Exact<{
  refreshToken: string;
}>;


export type TokenRefreshMutation = { tokenRefresh: { accessToken: string | null, refreshToken: string | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type UserNameQueryVariables = Exact<{
  id: string;
}>;


export type UserNameQuery = { user: { username: string, displayName: string } };

export type VerticalDisableMutationVariables = Exact<{
  verticalId: string;
}>;


export type VerticalDisableMutation = { verticalDisable: { errors: Array<{ code: string, field: string | null, message: string }> } };

export type VerticalEnableMutationVariables = Exact<{
  verticalId: string;
}>;


export type VerticalEnableMutation = { verticalEnable: { errors: Array<{ code: string, field: string | null, message: string }> } };

export type WebhookEndpointsQueryVariables = Exact<{ [key: string]: never; }>;


export type WebhookEndpointsQuery = { webhookEndpoints: { nodes: Array<{ id: string, url: string, description: string, eventTypes: Array<string>, status: string, consecutiveFailures: number, disabledReason: string | null, createdAt: string }> } };
