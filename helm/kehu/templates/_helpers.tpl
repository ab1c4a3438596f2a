{{/*
Names, labels and the pieces every kehu pod shares.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "kehu.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The base name of every resource: fullnameOverride, else "<release>-<chart>" (just the release
name when it already contains the chart name). Kept to 39 characters: a CronJob's name
("<fullname>-audit-anchor") may have at most 52, so that the Jobs it creates stay within 63.
*/}}
{{- define "kehu.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 39 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 39 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 39 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "kehu-0.1.0" for the helm.sh/chart label. */}}
{{- define "kehu.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "kehu.labels" -}}
helm.sh/chart: {{ include "kehu.chart" . }}
{{ include "kehu.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: kehu
{{- end }}

{{/* Labels that identify the release's pods (never change them: selectors are immutable). */}}
{{- define "kehu.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kehu.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector of the API pods. */}}
{{- define "kehu.apiSelectorLabels" -}}
{{ include "kehu.selectorLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{/* The ServiceAccount the pods run as. */}}
{{- define "kehu.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kehu.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest. */}}
{{- define "kehu.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (toString (default .Chart.AppVersion .Values.image.tag)) }}
{{- end }}
{{- end }}

{{/* The Secret holding the six secret settings: secrets.existingSecret or the chart's own. */}}
{{- define "kehu.secretName" -}}
{{- default (include "kehu.fullname" .) .Values.secrets.existingSecret }}
{{- end }}

{{/* The copy of the secrets that exists while the migration hook runs (see secret.yaml). */}}
{{- define "kehu.migrateSecretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else }}
{{- printf "%s-migrate" (include "kehu.fullname" .) }}
{{- end }}
{{- end }}

{{/* Settings that belong in the Secret, never in the ConfigMap. */}}
{{- define "kehu.secretKeys" -}}
KEHU_DATABASE_URL KEHU_MIGRATE_DATABASE_URL KEHU_BROKER_URL KEHU_JWT_SIGNING_KEYS KEHU_DATA_KEYS KEHU_AUDIT_ANCHOR_KEY KEHU_BACKUP_KEY
{{- end }}

{{/* Backup settings the chart sets from backups (in the scheduler only), never from config. */}}
{{- define "kehu.backupSettings" -}}
KEHU_BACKUP_DIR KEHU_BACKUP_RETENTION
{{- end }}

{{/* Anchor settings the chart sets from auditAnchors, never from config. */}}
{{- define "kehu.anchorSettings" -}}
KEHU_AUDIT_ANCHOR_DIR KEHU_AUDIT_ANCHOR_PUBLIC_KEYS KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS KEHU_AUDIT_ANCHOR_GRACE_SECONDS
{{- end }}

{{/* Where the audit anchor store is mounted in every container that uses it (KEHU_AUDIT_ANCHOR_DIR). */}}
{{- define "kehu.anchorDir" -}}
/var/lib/kehu/audit-anchors
{{- end }}

{{/* The anchor store's claim: auditAnchors.existingClaim or the chart's own. */}}
{{- define "kehu.anchorClaimName" -}}
{{- default (printf "%s-audit-anchors" (include "kehu.fullname" .)) .Values.auditAnchors.existingClaim }}
{{- end }}

{{/* The anchor store volume and its (writable) mount. */}}
{{- define "kehu.anchorVolume" -}}
- name: audit-anchors
  persistentVolumeClaim:
    claimName: {{ include "kehu.anchorClaimName" . }}
{{- end }}

{{- define "kehu.anchorVolumeMount" -}}
- name: audit-anchors
  mountPath: {{ include "kehu.anchorDir" . }}
{{- end }}

{{/*
Where the backup volume is mounted in the scheduler (KEHU_BACKUP_DIR): backups.mountPath without a
trailing "/". Refused when it is, holds or lies inside /tmp or the audit anchor store.
*/}}
{{- define "kehu.backupDir" -}}
{{- $dir := trimSuffix "/" .Values.backups.mountPath }}
{{- range $taken := list "/tmp" (include "kehu.anchorDir" $) }}
{{- if or (eq $dir $taken) (hasPrefix (printf "%s/" $dir) $taken) (hasPrefix (printf "%s/" $taken) $dir) }}
{{- fail (printf "backups.mountPath=%s overlaps %s: give the backups a directory of their own (default /var/lib/kehu/backups)" $dir $taken) }}
{{- end }}
{{- end }}
{{- $dir }}
{{- end }}

{{/* The backup volume's claim: backups.existingClaim or the chart's own. */}}
{{- define "kehu.backupClaimName" -}}
{{- default (printf "%s-backups" (include "kehu.fullname" .)) .Values.backups.existingClaim }}
{{- end }}

{{/*
What the scheduler gets when backups.enabled (the monthly backup is a sweep of its tick, which on
the production profile runs in `kehu scheduler` only): the key from the Secret by name (a Secret
without it stops the pod naming the key), the directory and the retention. Call with $.
*/}}
{{- define "kehu.backupEnv" -}}
- name: KEHU_BACKUP_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "kehu.secretName" . }}
      key: KEHU_BACKUP_KEY
- name: KEHU_BACKUP_DIR
  value: {{ include "kehu.backupDir" . | quote }}
- name: KEHU_BACKUP_RETENTION
  value: {{ .Values.backups.retention | int | toString | quote }}
{{- end }}

{{- define "kehu.backupVolume" -}}
- name: backups
  persistentVolumeClaim:
    claimName: {{ include "kehu.backupClaimName" . }}
{{- end }}

{{- define "kehu.backupVolumeMount" -}}
- name: backups
  mountPath: {{ include "kehu.backupDir" . }}
{{- end }}

{{/*
KEHU_BACKUP_KEY for the chart-created Secret when backups.enabled, checked (base64 or base64url of
32 bytes, as kehu reads it); empty otherwise. The message names the value, never echoes it. Not in
the migration hook's copy: `kehu migrate` never backs up.
*/}}
{{- define "kehu.backupSecretData" -}}
{{- if .Values.backups.enabled }}
{{- $key := required "secrets.backupKey (KEHU_BACKUP_KEY, base64 of 32 random bytes that encrypts the backups) is required when backups.enabled (or set secrets.existingSecret to a Secret you manage that holds it)" .Values.secrets.backupKey }}
{{- if not (regexMatch "^[A-Za-z0-9+/_-]{43}=?$" (trim $key)) }}
{{- fail "secrets.backupKey: not 32 bytes in base64 (44 characters ending in \"=\", or 43 in base64url; make one with: python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')" }}
{{- end }}
KEHU_BACKUP_KEY: {{ $key | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
The keys every kehu process needs on the production profile, by name: KEHU_DATA_KEYS (personal
data at rest) and KEHU_AUDIT_ANCHOR_KEY (audit anchors). A Secret without one stops the pod with an
error naming the key, rather than kehu starting without it.
*/}}
{{- define "kehu.requiredSecretEnv" -}}
- name: KEHU_DATA_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: KEHU_DATA_KEYS
- name: KEHU_AUDIT_ANCHOR_KEY
  valueFrom:
    secretKeyRef:
      name: {{ .secret }}
      key: KEHU_AUDIT_ANCHOR_KEY
{{- end }}

{{/*
The ConfigMap's data: the config map with KEHU_PROFILE=production, every value a string.
Refuses secret settings, names that are not KEHU_*, and settings the chart fixes itself.
*/}}
{{- define "kehu.configData" -}}
{{- $secretKeys := splitList " " (include "kehu.secretKeys" .) }}
{{- $anchorSettings := splitList " " (include "kehu.anchorSettings" .) }}
{{- range $key, $value := .Values.config }}
{{- if not (hasPrefix "KEHU_" $key) }}
{{- fail (printf "config.%s: only KEHU_* settings belong in config" $key) }}
{{- end }}
{{- if has $key $secretKeys }}
{{- fail (printf "config.%s: this is a secret; set it under secrets (or in secrets.existingSecret)" $key) }}
{{- end }}
{{- if has $key $anchorSettings }}
{{- fail (printf "config.%s: set the audit anchor store under auditAnchors (the chart mounts it and sets this)" $key) }}
{{- end }}
{{- if has $key (splitList " " (include "kehu.backupSettings" $)) }}
{{- fail (printf "config.%s: set backups under backups (the chart mounts the backup volume in the scheduler and sets this there)" $key) }}
{{- end }}
{{- if and (eq $key "KEHU_PROFILE") (ne (toString $value) "production") }}
{{- fail "config.KEHU_PROFILE: the chart deploys the production profile only" }}
{{- end }}
{{- if has $key (list "KEHU_HOST" "KEHU_PORT") }}
{{- fail (printf "config.%s: the chart fixes where kehu listens (0.0.0.0:8000)" $key) }}
{{- end }}
{{- end }}
{{- $data := dict }}
{{- range $key, $value := .Values.config }}
{{- if not (kindIs "invalid" $value) }}
{{- $_ := set $data $key (toString $value) }}
{{- end }}
{{- end }}
{{- $_ := set $data "KEHU_PROFILE" "production" }}
{{- $a := .Values.auditAnchors }}
{{- if le (int $a.graceSeconds) (int $a.intervalSeconds) }}
{{- fail (printf "auditAnchors.graceSeconds=%v must be larger than auditAnchors.intervalSeconds=%v: entries would count as unanchored before the next anchor" $a.graceSeconds $a.intervalSeconds) }}
{{- end }}
{{- $_ := set $data "KEHU_AUDIT_ANCHOR_DIR" (include "kehu.anchorDir" .) }}
{{- $_ := set $data "KEHU_AUDIT_ANCHOR_INTERVAL_SECONDS" (toString (int $a.intervalSeconds)) }}
{{- $_ := set $data "KEHU_AUDIT_ANCHOR_GRACE_SECONDS" (toString (int $a.graceSeconds)) }}
{{- with $a.publicKeys }}
{{- $_ := set $data "KEHU_AUDIT_ANCHOR_PUBLIC_KEYS" (join "," .) }}
{{- end }}
{{- toYaml $data }}
{{- end }}

{{/* KEHU_SHUTDOWN_GRACE_SECONDS as configured (kehu's default is 20). */}}
{{- define "kehu.shutdownGraceSeconds" -}}
{{- $grace := 20 }}
{{- if and (hasKey .Values.config "KEHU_SHUTDOWN_GRACE_SECONDS") (not (kindIs "invalid" .Values.config.KEHU_SHUTDOWN_GRACE_SECONDS)) }}
{{- $grace = atoi (toString .Values.config.KEHU_SHUTDOWN_GRACE_SECONDS) }}
{{- end }}
{{- $grace }}
{{- end }}

{{/*
The API pods' terminationGracePeriodSeconds: the preStop pause plus kehu's own shutdown grace
plus 10 s for closing the pool, unless set; a value that leaves kehu no time is refused.
*/}}
{{- define "kehu.terminationGracePeriodSeconds" -}}
{{- $grace := int (include "kehu.shutdownGraceSeconds" .) }}
{{- $pause := int (default 0 .Values.api.preStopSleepSeconds) }}
{{- $needed := add $grace $pause }}
{{- $set := .Values.api.terminationGracePeriodSeconds }}
{{- if or (kindIs "invalid" $set) (eq (toString $set) "") }}
{{- add $needed 10 }}
{{- else }}
{{- if le (int $set) $needed }}
{{- fail (printf "api.terminationGracePeriodSeconds=%v must be larger than api.preStopSleepSeconds + KEHU_SHUTDOWN_GRACE_SECONDS (%d)" $set $needed) }}
{{- end }}
{{- int $set }}
{{- end }}
{{- end }}

{{/* The writable /tmp every kehu container gets (the root filesystem is read-only). */}}
{{- define "kehu.tmpVolume" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- end }}

{{- define "kehu.tmpVolumeMount" -}}
- name: tmp
  mountPath: /tmp
{{- end }}

{{/*
The pod spec fields shared by the API, the migration and the CronJobs' pods.
*/}}
{{- define "kehu.podCommon" -}}
serviceAccountName: {{ include "kehu.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/*
A container that runs a one-off kehu command as the database owner, for the Jobs.
Call with (dict "root" $ "name" NAME "args" LIST "configMap" NAME-or-"" "secret" NAME "resources" MAP
"anchorStore" BOOL): anchorStore mounts the audit anchor store (the migration hook runs before the
chart's claim exists on a first install, and never touches anchors).
*/}}
{{- define "kehu.ownerContainer" -}}
{{- $root := .root -}}
- name: {{ .name }}
  image: {{ include "kehu.image" $root | quote }}
  imagePullPolicy: {{ $root.Values.image.pullPolicy }}
  command: ["kehu"]
  args:
    {{- toYaml .args | nindent 4 }}
  {{- if .configMap }}
  envFrom:
    - configMapRef:
        name: {{ .configMap }}
    - secretRef:
        name: {{ .secret }}
  env:
    {{- include "kehu.requiredSecretEnv" (dict "secret" .secret) | nindent 4 }}
  {{- else }}
  env:
    {{- range $key, $value := (include "kehu.configData" $root | fromYaml) }}
    - name: {{ $key }}
      value: {{ $value | quote }}
    {{- end }}
    {{- include "kehu.requiredSecretEnv" (dict "secret" .secret) | nindent 4 }}
  envFrom:
    - secretRef:
        name: {{ .secret }}
  {{- end }}
  resources:
    {{- toYaml .resources | nindent 4 }}
  securityContext:
    {{- toYaml $root.Values.securityContext | nindent 4 }}
  volumeMounts:
    {{- include "kehu.tmpVolumeMount" $root | nindent 4 }}
    {{- if .anchorStore }}
    {{- include "kehu.anchorVolumeMount" $root | nindent 4 }}
    {{- end }}
{{- end }}

{{/*
The six secret settings for the chart-created Secret, checked: all are required, and the
production profile refuses SQLite and the embedded broker (kehu would refuse to start). Messages
name the value, never echo it.
*/}}
{{- define "kehu.secretData" -}}
{{- $s := .Values.secrets }}
{{- $hint := "(or set secrets.existingSecret to a Secret you manage)" }}
{{- $db := required (printf "secrets.databaseUrl (KEHU_DATABASE_URL, the app role's postgresql:// URL) is required %s" $hint) $s.databaseUrl }}
{{- $owner := required (printf "secrets.migrateDatabaseUrl (KEHU_MIGRATE_DATABASE_URL, the owner's postgresql:// URL) is required %s" $hint) $s.migrateDatabaseUrl }}
{{- $broker := required (printf "secrets.brokerUrl (KEHU_BROKER_URL, redis://host:6379/0) is required %s" $hint) $s.brokerUrl }}
{{- $keys := required (printf "secrets.jwtSigningKeys (KEHU_JWT_SIGNING_KEYS, kid:seed[,kid:seed]) is required %s" $hint) $s.jwtSigningKeys }}
{{- $dataKeys := required (printf "secrets.dataKeys (KEHU_DATA_KEYS, id:key[,id:key], the keys that encrypt personal data at rest) is required %s" $hint) $s.dataKeys }}
{{- $dataKeyIds := list }}
{{- range $item := splitList "," $dataKeys }}
{{- if not (regexMatch "^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9_-]{43}=?$" (trim $item)) }}
{{- fail "secrets.dataKeys: expected id:key[,id:key], each key 32 bytes in base64url (43 characters; make one as for jwtSigningKeys); the first encrypts" }}
{{- end }}
{{- $dataKeyIds = append $dataKeyIds (first (splitList ":" (trim $item))) }}
{{- end }}
{{- if ne (len $dataKeyIds) (len (uniq $dataKeyIds)) }}
{{- fail "secrets.dataKeys: key ids must be unique" }}
{{- end }}
{{- $anchorKey := required (printf "secrets.auditAnchorKey (KEHU_AUDIT_ANCHOR_KEY, the base64url Ed25519 seed that signs audit anchors) is required %s" $hint) $s.auditAnchorKey }}
{{- if not (regexMatch "^[A-Za-z0-9_-]{43}=?$" $anchorKey) }}
{{- fail "secrets.auditAnchorKey: not a base64url Ed25519 seed of 32 bytes (43 characters; make one as for jwtSigningKeys)" }}
{{- end }}
{{- range $name, $url := dict "secrets.databaseUrl" $db "secrets.migrateDatabaseUrl" $owner }}
{{- if not (or (hasPrefix "postgresql://" $url) (hasPrefix "postgres://" $url)) }}
{{- fail (printf "%s: the production profile needs PostgreSQL (postgresql://user:password@host:5432/db); SQLite is for the embedded profile only" $name) }}
{{- end }}
{{- end }}
{{- if not (or (hasPrefix "redis://" $broker) (hasPrefix "rediss://" $broker)) }}
{{- fail "secrets.brokerUrl: the production profile needs a Redis broker (redis://host:6379/0); the embedded broker is for the embedded profile only" }}
{{- end }}
KEHU_DATABASE_URL: {{ $db | b64enc | quote }}
KEHU_MIGRATE_DATABASE_URL: {{ $owner | b64enc | quote }}
KEHU_BROKER_URL: {{ $broker | b64enc | quote }}
KEHU_JWT_SIGNING_KEYS: {{ $keys | b64enc | quote }}
KEHU_DATA_KEYS: {{ $dataKeys | b64enc | quote }}
KEHU_AUDIT_ANCHOR_KEY: {{ $anchorKey | b64enc | quote }}
{{- end }}

{{/*
"true" unless config.KEHU_METRICS_ENABLED turns /metrics off (any spelling kehu reads as false).
*/}}
{{- define "kehu.metricsEnabled" -}}
{{- $value := "true" }}
{{- if hasKey .Values.config "KEHU_METRICS_ENABLED" }}
{{- $raw := index .Values.config "KEHU_METRICS_ENABLED" }}
{{- if not (kindIs "invalid" $raw) }}
{{- $value = lower (trim (toString $raw)) }}
{{- end }}
{{- end }}
{{- if has $value (list "false" "0" "off" "f" "n" "no") }}false{{ else }}true{{ end }}
{{- end }}
