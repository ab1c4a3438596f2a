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

export type IdentifierInput = {
  number: string;
  type: string;
};

/** Over which records a permission holds. */
export type PermissionScope =
  | 'DEPARTMENT'
  | 'OWN'
  | 'TENANT';

export type AccessRequestsQueryVariables = Exact<{ [key: string]: never; }>;


export type AccessRequestsQuery = { accessRequests: { nodes: Array<{ id: string, purpose: string, state: string, expiresAt: string | null, usedAt: string | null }> } };

export type ApiKeysQueryVariables = Exact<{ [key: string]: never; }>;


export type ApiKeysQuery = { apiKeys: { nodes: Array<{ id: string, name: string, hint: string, permissions: Array<string>, expiresAt: string | null, lastUsedAt: string | null, revokedAt: string | null }> } };

export type AuditEntriesQueryVariables = Exact<{
  filter?: AuditFilterInput | null | undefined;
  first: number;
  after?: string | null | undefined;
}>;


export type AuditEntriesQuery = { auditEntries: { nodes: Array<{ seq: number, occurredAt: string, actor: string, action: string, targetType: string, targetId: string | null }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type AuditVerifyQueryVariables = Exact<{ [key: string]: never; }>;


export type AuditVerifyQuery = { auditVerify: { ok: boolean, checked: number, position: number | null, kind: string | null } };

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

export type SettingsQueryVariables = Exact<{ [key: string]: never; }>;


export type SettingsQuery = { users: { nodes: Array<{ id: string, username: string, displayName: string, status: string, clearance: number, lastLoginAt: string | null }> }, roles: { nodes: Array<{ id: string, name: string, permissions: Array<{ permission: string, scope: PermissionScope }> }> }, tenantVerticals: Array<{ id: string, nameZh: string, nameEn: string, enabled: boolean, version: number, parameters: Array<{ key: string, value: any }> }> };

export type SignInPolicyQueryVariables = Exact<{ [key: string]: never; }>;


export type SignInPolicyQuery = { signInPolicy: { totpRequired: boolean, totpRequiredRoles: Array<string>, staffNetworks: Array<string>, apiKeyNetworks: Array<string>, challengeAfterFailures: number } };

export type TokenRefreshMutationVariables = Exact<{
  refreshToken: string;
}>;


export type TokenRefreshMutation = { tokenRefresh: { accessToken: string | null, refreshToken: string | null, errors: Array<{ code: string, field: string | null, message: string }> } };

export type VerticalDisableMutationVariables = Exact<{
  verticalId: string;
}>;


export type VerticalDisableMutation = { verticalDisable: { errors: Array<{ code: string, field: string | null, message: string }> } };

export type VerticalEnableMutationVariables = Exact<{
  verticalId: string;
}>;


export type VerticalEnableMutation = { verticalEnable: { errors: Array<{ code: string, field: string | null, message: string }> } };

export type WebhookEndpointsQueryVariables = Exact<{ [key: string]: never; }>;


export type WebhookEndpointsQuery = { webhookEndpoints: { nodes: Array<{ id: string, url: string, description: string, eventTypes: Array<string>, status: string, consecutiveFailures: number }> } };
