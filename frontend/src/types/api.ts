// Shapes of the operator API, typed by hand against the backend's pydantic models
// (chalicelib/schemas) and the OpenAPI document built from them. tests/unit/test_console_types.py
// checks every `@model` interface against its pydantic model and every `@openapi` interface
// against its component of the document: field names, optionality, nullability, primitive
// kinds and enum values must match.
// Timestamps are ISO 8601 strings.

/** Error body of every 4xx: machine code, message, and the field at fault. @openapi ErrorBody */
export interface ApiErrorBody {
  error: string;
  message: string;
  field?: string | null;
  [extra: string]: unknown;
}

export type JsonObject = Record<string, unknown>;

export type DeviceStatus = "pending_mapping" | "active" | "disabled";

/** @model chalicelib.devices.schemas.Device */
export interface Device {
  tenant_id: string;
  device_id: string;
  name?: string | null;
  attributes?: JsonObject;
  status?: DeviceStatus;
  created_at: string;
  last_seen_at?: string | null;
  site_id?: string | null;
  next_wake_at?: string | null;
  /** The device's broker username and client id: `{tenant_id}.{device_id}`. */
  mqtt_username: string;
  /** The device's AWS IoT thing name on this broker (the same string). */
  thing_name: string;
}

/** @model chalicelib.devices.schemas.CreateDevice */
export interface CreateDevice {
  device_id?: string | null;
  name?: string | null;
  attributes?: Record<string, string | number | boolean | null>;
}

/** POST /customer/devices: the device and its provision token, shown once. @openapi CreatedDevice */
export interface CreatedDevice extends Device {
  provision_token: string;
}

export type CertificateStatus = "ACTIVE" | "INACTIVE" | "REVOKED" | "PENDING_ACTIVATION";

/** What every certificate the API answers says of itself (never a key). */
export interface CertificateFacts {
  certificate_id: string;
  tenant_id: string;
  status: CertificateStatus;
  subject: string;
  serial_number: string;
  not_before: string;
  not_after: string;
  created_at: string;
  certificate_pem: string;
}

/** A device's X.509 client certificate; its id is the SHA-256 fingerprint. @model chalicelib.certificates.schemas.Certificate */
export interface Certificate extends CertificateFacts {
  device_id: string;
}

/** POST .../certificates: the certificate and, when the server made the key pair, its private key, once. @openapi CertificateCreated */
export interface CreatedCertificate extends Certificate {
  private_key_pem: string | null;
}

export type ReEnrolment = "refuse" | "new_credential";

/** A provisioning template: what a board enrolling by claim becomes, and what it enrolled and refused. @model chalicelib.provisioning.schemas.Template */
export interface ProvisioningTemplate {
  tenant_id: string;
  template_name: string;
  description?: string | null;
  enabled?: boolean;
  parameters?: Record<string, JsonObject>;
  device_id: string;
  name?: string | null;
  attributes?: Record<string, string>;
  groups?: string[];
  site_id?: string | null;
  allow_list_parameter?: string | null;
  allow_list?: string[];
  pre_provisioning_hook?: JsonObject | null;
  re_enrolment?: ReEnrolment;
  claim_validity_days?: number;
  created_at: string;
  updated_at: string;
  provisioned_count?: number;
  refused_count?: number;
  last_refusal?: JsonObject | null;
}

/** A template's claim certificate (never its key): the credential every board of a factory holds. @model chalicelib.certificates.schemas.ClaimCertificate */
export interface ClaimCertificate extends CertificateFacts {
  template_name: string;
}

/** POST .../claim-certificates: the claim and its private key, in this answer only. @openapi ClaimCertificateCreated */
export interface CreatedClaimCertificate extends ClaimCertificate {
  private_key_pem: string;
}

/** @model chalicelib.devices.schemas.Group */
export interface Group {
  tenant_id: string;
  group_id: string;
  name: string;
  description?: string | null;
  member_count?: number;
  created_at: string;
}

/** @model chalicelib.devices.schemas.CreateGroup */
export interface CreateGroup {
  group_id?: string | null;
  name: string;
  description?: string | null;
}

/** GET /customer/groups/{id}: the group and one page of its members. @openapi GroupWithMembers */
export interface GroupDetail extends Group {
  members: string[];
  next_token: string | null;
}

export type CommandStatus = "queued" | "delivered" | "missed" | "expired";

/** @model chalicelib.commands.schemas.Command */
export interface Command {
  command_id: string;
  tenant_id: string;
  device_id: string;
  command_type: string;
  command_params?: JsonObject;
  status?: CommandStatus;
  created_at: string;
  created_by?: string;
  expires_at: string;
  published_at?: string | null;
  fetched_at?: string | null;
  acked_at?: string | null;
  ack_details?: JsonObject | null;
  publish_attempts?: number;
  batch_id?: string | null;
  mqtt_published: boolean;
}

/** @model chalicelib.commands.schemas.CreateCommand */
export interface CreateCommand {
  command_type: string;
  command_params?: JsonObject;
  expires_in_minutes?: number | null;
  client_token?: string | null;
}

export type BatchTarget = "group" | "site";
export type BatchStatus = "sending" | "sent";

/** @model chalicelib.commands.batches.schemas.CommandBatch */
export interface CommandBatch {
  batch_id: string;
  tenant_id: string;
  target_type: BatchTarget;
  target_id: string;
  command_type: string;
  command_params?: JsonObject;
  status?: BatchStatus;
  targeted?: number;
  sent?: number;
  skipped?: number;
  created_at: string;
  created_by?: string;
  expires_at: string;
  completed_at?: string | null;
  client_token?: string | null;
}

/** @model chalicelib.commands.batches.schemas.BatchMember */
export interface BatchMember {
  device_id: string;
  command_id: string;
  status: CommandStatus;
  published_at?: string | null;
  fetched_at?: string | null;
  acked_at?: string | null;
}

/** GET /customer/command-batches/{id}: counts per status and a page of the commands. @model chalicelib.commands.batches.schemas.BatchView */
export interface BatchView extends CommandBatch {
  counts: Record<CommandStatus, number>;
  published: number;
  commands: BatchMember[];
  next_token?: string | null;
}

export type ImportFormat = "csv" | "jsonl";
export type ImportStatus = "running" | "completed";
export type RowOutcome = "created" | "existed" | "refused";
export type CredentialsState = "none" | "pending" | "available" | "downloaded" | "expired";

/** @model chalicelib.imports.schemas.DeviceImport */
export interface DeviceImport {
  import_id: string;
  tenant_id: string;
  status?: ImportStatus;
  format: ImportFormat;
  rows: number;
  created?: number;
  existed?: number;
  refused?: number;
  credentials?: CredentialsState;
  credentials_expire_at?: string | null;
  created_at: string;
  created_by?: string;
  completed_at?: string | null;
  client_token?: string | null;
}

/** @model chalicelib.imports.schemas.RowResult */
export interface RowResult {
  row: number;
  device_id?: string | null;
  outcome: RowOutcome;
  reason?: string | null;
  field?: string | null;
}

/** GET /customer/device-imports/{id}: counts and a page of row results. @model chalicelib.imports.schemas.ImportView */
export interface ImportView extends DeviceImport {
  results: RowResult[];
  next_token?: string | null;
}

/** One created device's credential; the certificate fields only for rows with `certificate: true`. @openapi ImportCredential */
export interface ImportCredential {
  device_id: string;
  mqtt_username: string;
  provision_token: string;
  certificate_id?: string | null;
  certificate_pem?: string | null;
  private_key_pem?: string | null;
}

/** POST /customer/device-imports/{id}/credentials: each created device's token (and certificate), given once. @openapi ImportCredentials */
export interface ImportCredentials {
  import_id: string;
  credentials: ImportCredential[];
}

/** GET /customer/device-imports. @openapi ImportPage */
export interface ImportPage {
  imports: DeviceImport[];
  next_token?: string | null;
}

export type SyncStatus = "synced" | "pending" | "stale";

/** GET /customer/devices/{id}/twin (TwinService.view). @openapi TwinView */
export interface TwinView {
  device_id: string;
  desired: JsonObject;
  reported: JsonObject;
  delta: JsonObject;
  desired_version: number;
  reported_version: number;
  sync_status: SyncStatus;
  shadow_updated_at: string | null;
  last_seen_at: string | null;
  metadata: { desired: JsonObject; reported: JsonObject };
}

/** PATCH /customer/devices/{id}/twin/desired: the new twin, and whether the broker took it. @openapi TwinPatched */
export interface TwinPatched extends TwinView {
  published: boolean;
}

/** @model chalicelib.twin.schemas.PatchDesired */
export interface PatchDesired {
  desired: JsonObject;
  version?: number | null;
}

export type JobStatus = "IN_PROGRESS" | "COMPLETED" | "CANCELED";
export type ExecutionStatus = "QUEUED" | "IN_PROGRESS" | "SUCCEEDED" | "FAILED" | "REJECTED" | "TIMED_OUT";
export type TargetType = "device" | "group" | "all";
export type TargetSelection = "SNAPSHOT" | "CONTINUOUS";
export type FailureType = "FAILED" | "REJECTED" | "TIMED_OUT" | "ALL";

/** @model chalicelib.jobs.rollout.RateIncreaseCriteria */
export interface RateIncreaseCriteria {
  succeeded?: number | null;
  notified?: number | null;
}

/** @model chalicelib.jobs.rollout.ExponentialRate */
export interface ExponentialRate {
  base_rate_per_minute: number;
  increment_factor: number;
  rate_increase_criteria: RateIncreaseCriteria;
}

/** @model chalicelib.jobs.rollout.Rollout */
export interface Rollout {
  max_per_minute: number;
  exponential?: ExponentialRate | null;
}

/** @model chalicelib.jobs.rollout.AbortCriterion */
export interface AbortCriterion {
  failure_type: FailureType;
  min_executed: number;
  threshold_percentage: number;
  action?: "CANCEL";
}

/** @model chalicelib.jobs.rollout.RolloutProgress */
export interface RolloutProgress {
  held: number;
  released: number;
  rate_per_minute: number;
  released_at?: string | null;
}

/** @model chalicelib.jobs.schemas.Job */
export interface Job {
  tenant_id: string;
  job_id: string;
  document_type: string;
  document_params?: JsonObject;
  target_type: TargetType;
  target_id?: string | null;
  status: JobStatus;
  execution_count: number;
  counts: Partial<Record<ExecutionStatus, number>>;
  created_at: string;
  created_by?: string | null;
  expires_at: string;
  completed_at?: string | null;
  canceled_at?: string | null;
  client_token?: string | null;
  sweep_pending?: boolean;
  target_selection?: TargetSelection;
  rollout?: Rollout | null;
  abort?: AbortCriterion[] | null;
  in_progress_timeout_minutes?: number | null;
  rollout_progress?: RolloutProgress | null;
  aborted?: boolean;
  abort_criterion?: AbortCriterion | null;
  reason?: string | null;
}

/** @model chalicelib.jobs.schemas.Execution */
export interface Execution {
  job_id: string;
  device_id: string;
  status: ExecutionStatus;
  status_details?: Record<string, string>;
  execution_number?: number;
  version_number?: number;
  queued_at: string;
  started_at?: string | null;
  updated_at: string;
  held?: boolean;
  timeout_at?: string | null;
}

/** GET /customer/jobs/{id}: the job and one page of its executions. @openapi JobWithExecutions */
export interface JobDetail extends Job {
  executions: Execution[];
  next_token: string | null;
}

/** @model chalicelib.jobs.schemas.CreateJob */
export interface CreateJob {
  document_type: string;
  document_params?: JsonObject;
  target_device_id?: string | null;
  target_group_id?: string | null;
  target_all?: boolean;
  expires_in_hours?: number | null;
  client_token?: string | null;
  rollout?: Rollout | null;
  abort?: AbortCriterion[] | null;
  in_progress_timeout_minutes?: number | null;
  target_selection?: TargetSelection;
}

/** @model chalicelib.sites.schemas.Site */
export interface Site {
  tenant_id: string;
  site_id: string;
  name: string;
  wake_schedule_cron: string;
  timezone: string;
  program?: string | null;
  company?: string | null;
  device_count?: number;
  schedule_version?: number;
  schedule_fanout_pending?: boolean;
  created_at: string;
  updated_at: string;
}

/** PATCH /customer/sites/{id}: the site and how far its new schedule was sent. @openapi SiteUpdated */
export interface SiteUpdated extends Site {
  schedule_changed: boolean;
  devices_notified: number;
  devices_updated: number;
  fanout_complete: boolean;
}

/** @model chalicelib.sites.schemas.CreateSite */
export interface CreateSite {
  site_id?: string | null;
  name: string;
  wake_schedule_cron: string;
  timezone?: string;
  program?: string | null;
  company?: string | null;
}

/** @model chalicelib.sites.schemas.UpdateSite */
export interface UpdateSite {
  name?: string | null;
  wake_schedule_cron?: string | null;
  timezone?: string | null;
  program?: string | null;
  company?: string | null;
}

/** @model chalicelib.sites.schemas.MapDevice */
export interface MapDevice {
  site_id: string;
}

/** PUT /customer/devices/{id}/site: the device and whether a welcome command was queued. @openapi DeviceMapped */
export interface MappedDevice extends Device {
  changed: boolean;
  welcome_command_id: string | null;
}

/** @model chalicelib.firmware.schemas.Firmware */
export interface Firmware {
  tenant_id: string;
  firmware_id: string;
  version: string;
  device_model: string;
  notes?: string | null;
  status: FirmwareStatus;
  declared_size_bytes?: number | null;
  max_size_bytes: number;
  declared_sha256?: string | null;
  size_bytes?: number | null;
  sha256?: string | null;
  reason?: string | null;
  created_at: string;
  created_by?: string | null;
  completed_at?: string | null;
  in_use_until?: string | null;
  object_version?: string | null;
}

export type FirmwareStatus = "pending_upload" | "ready" | "rejected";

/** @model chalicelib.firmware.schemas.CreateFirmware */
export interface CreateFirmware {
  version: string;
  device_model: string;
  notes?: string | null;
  size_bytes?: number | null;
  max_size_bytes?: number | null;
  sha256?: string | null;
}

/** POST /customer/firmware: the artifact and, once, where to PUT its image. @model chalicelib.firmware.schemas.UploadTicket */
export interface UploadTicket {
  firmware: Firmware;
  upload_url: string;
  upload_method?: string;
  upload_headers?: Record<string, string>;
  upload_expires_at: string;
}

/** GET /customer/firmware-versions: devices per reported version. @model chalicelib.firmware.schemas.VersionCounts */
export interface VersionCounts {
  scope: string;
  group_id?: string | null;
  versions: Record<string, number>;
  total: number;
}

/** DELETE /customer/firmware/{id}. @openapi FirmwareDeleted */
export interface FirmwareDeleted {
  firmware_id: string;
  deleted: boolean;
}

/** Every paginated listing: `{<key>: [...], next_token}`. */
export type Page<K extends string, T> = { [key in K]: T[] } & { next_token: string | null };

export type PresenceBucket = "online" | "hour" | "day" | "week" | "older" | "never";
/** The devices list's presence filter: a bucket, or the unions `offline` and `stale`. */
export type PresenceFilter = PresenceBucket | "offline" | "stale";
export type CommandOutcome = "delivered" | "missed" | "expired" | "publish_failed";

/** @model chalicelib.overview.schemas.DevicePresence */
export interface DevicePresence {
  total: number;
  online: number;
  offline: number;
  stale: number;
  buckets: Record<string, number>;
  truncated: boolean;
}

/** @model chalicelib.overview.schemas.LatencyBucket */
export interface LatencyBucket {
  le_ms: number | null;
  count: number;
}

/** @model chalicelib.overview.schemas.LatencySummary */
export interface LatencySummary {
  count: number;
  avg_ms?: number | null;
  p50_ms?: number | null;
  p95_ms?: number | null;
  max_ms?: number | null;
  histogram: LatencyBucket[];
}

/** @model chalicelib.overview.schemas.HourOutcomes */
export interface HourOutcomes {
  hour: string;
  delivered?: number;
  missed?: number;
  expired?: number;
}

/** @model chalicelib.overview.schemas.CommandOutcomes */
export interface CommandOutcomes {
  since: string;
  window_hours: number;
  outcomes: Partial<Record<CommandOutcome, number>>;
  hourly: HourOutcomes[];
  ack_latency: LatencySummary;
  truncated: boolean;
}

/** @model chalicelib.overview.schemas.JobInProgress */
export interface JobInProgress {
  job_id: string;
  document_type: string;
  target_type: string;
  target_id?: string | null;
  execution_count: number;
  counts: Record<string, number>;
  created_at: string;
}

/** @model chalicelib.overview.schemas.JobsInProgress */
export interface JobsInProgress {
  count: number;
  more: boolean;
  jobs: JobInProgress[];
}

/** @model chalicelib.overview.schemas.TwinSummary */
export interface TwinSummary {
  pending: number;
  stale: number;
  truncated: boolean;
}

/** GET /customer/overview. @model chalicelib.overview.schemas.Overview */
export interface Overview {
  generated_at: string;
  devices: DevicePresence;
  commands: CommandOutcomes;
  jobs: JobsInProgress;
  twins: TwinSummary;
  requests: number;
}

/** GET /customer/commands: one command of every device that became final in the window. @model chalicelib.overview.schemas.SettledCommand */
export interface SettledCommand {
  command_id: string;
  device_id: string;
  command_type: string;
  status: string;
  created_at?: string | null;
  published_at?: string | null;
  acked_at?: string | null;
  settled_at: string;
  publish_attempts?: number;
  ack_latency_ms?: number | null;
}
