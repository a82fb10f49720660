import type { Generated } from 'kysely';

/**
 * The fleet database, the same on SQLite and PostgreSQL: text columns only (times as
 * ISO-8601 UTC strings, which sort as text; JSON as text), so one query layer serves both.
 */
export interface CentresTable {
  id: string;
  name: string;
  region: string;
  room_json: string;
  timetable_json: string;
  timezone: string;
  created_at: string;
  updated_at: string;
}

export interface DevicesTable {
  id: string;
  centre_id: string;
  display_name: string;
  public_key: string;
  state: string | null;
  error_code: string | null;
  last_seen_at: string | null;
  version: string | null;
  health_json: string | null;
  /** uptime, temperature, network quality from the last heartbeat. */
  vitals_json: string | null;
  enrolled_at: string;
  updated_at: string;
  /** Release channel, e.g. "pilot" or "stable" (migration 0002). */
  channel: Generated<string>;
  /** The last update report from its heartbeat. */
  update_json: string | null;
  /**
   * The signed timestamp (ms, the box's clock) of the heartbeat the row shows (migration 0003): a
   * heartbeat older than it is not applied, so batching or replicas never show an older state.
   */
  heartbeat_at: number | string | null;
}

export interface EnrolmentTokensTable {
  /** SHA-256 of the token: the token itself is shown once and never stored. */
  token_hash: string;
  centre_id: string;
  device_id: string;
  display_name: string;
  expires_at: string;
  created_at: string;
  used_at: string | null;
  /** Revoked by IT, or expired by the device's enrolment with another token (migration 0003). */
  revoked_at: string | null;
}

export interface AdminsTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: string;
  /** No longer valid from then (migration 0003); null: no expiry. */
  expires_at: string | null;
  revoked_at: string | null;
}

/** Every admin action (API and CLI), with who did it (migration 0003). */
export interface AuditLogTable {
  id: string;
  at: string;
  /** The admin credential's name, or `cli:<user>` for the CLI on the server. */
  actor: string;
  /** e.g. `POST /api/v1/admin/centres/:centreId/enrolment-tokens` or `cli: fleet token create`. */
  action: string;
  /** The path or the thing acted on. */
  target: string;
  /** The HTTP status, or `ok` / the error code. */
  outcome: string;
  client: string | null;
}

export interface RequestNoncesTable {
  device_id: string;
  nonce: string;
  seen_at: string;
}

export interface DeviceActionsTable {
  id: string;
  device_id: string;
  kind: string;
  /** pending → sent → done | failed */
  status: string;
  detail: string | null;
  created_at: string;
  updated_at: string;
}

/** The latest log lines a box sent for a `logs` action (migration 0009). */
export interface DeviceLogsTable {
  device_id: string;
  action_id: string;
  /** JSON array of the lines, oldest first, secrets redacted. */
  lines_json: string;
  taken_at: string;
}

export interface SnapshotsTable {
  device_id: string;
  action_id: string;
  /** base64 JPEG; text keeps one code path for SQLite and PostgreSQL. */
  jpeg_base64: string;
  taken_at: string;
}

export interface ReleasesTable {
  version: string;
  /** The manifest file's exact text: the signature covers these bytes. */
  manifest: string;
  signature_json: string;
  arch: string;
  /** bigint: PostgreSQL hands it back as a string. */
  size: number | string;
  sha256: string;
  /** awaiting-payload → ready */
  status: string;
  created_at: string;
  updated_at: string;
}

export interface RolloutsTable {
  id: string;
  version: string;
  /** channel | centre | device */
  target_kind: string;
  target_id: string;
  /** 1–100: the share of the target's boxes that take it. */
  percent: number;
  /** active | paused | aborted (migration 0006): only an active rollout makes offers. */
  state: Generated<string>;
  created_at: string;
  updated_at: string;
}

/**
 * The boxes' vitals as history (migration 0007): one row per device and minute (kept 7 days) or
 * hour (kept 180 days). Sums and counts, so buckets add up; averages are taken when read.
 */
export interface VitalsTable {
  device_id: string;
  centre_id: string;
  /** Start of the minute or hour, ISO-8601 UTC. */
  at: string;
  minutes: number;
  beats: number;
  live_minutes: number;
  audio_only_minutes: number;
  update_failed_minutes: number;
  temp_sum: number;
  temp_max: number | null;
  temp_n: number;
  rtt_sum: number;
  rtt_n: number;
  uplink_sum: number;
  uplink_n: number;
  loss_sum: number;
  loss_n: number;
}

/** A Janus server the fleet places classes on (migration 0011). */
export interface MediaNodesTable {
  /** IT's name for it, e.g. "bj-1". */
  id: string;
  /** What boxes and teachers connect to, ws:// or wss://. */
  ws_url: string;
  /** Janus's admin API over HTTP, e.g. http://10.0.0.5:7088/admin: health, load, room creation. */
  admin_url: string;
  /** The admin API's secret; never returned by the API. */
  admin_secret: string | null;
  region: string;
  /** How many classes (rooms) it may carry. */
  capacity: number;
  /**
   * Where its Janus writes the teacher's recordings, as a path on the node (issue 21): each class room
   * gets `rec_dir` `<recordings_dir>/room-<room>`. Null: its classes are not recorded.
   */
  recordings_dir: string | null;
  /** unknown (never checked) | up | down */
  status: Generated<string>;
  /** Checks failed in a row; a node is down after `NODE_DOWN_AFTER` of them. */
  failures: Generated<number>;
  sessions: number | null;
  rooms: number | null;
  participants: number | null;
  /** Why the last check failed. */
  error: string | null;
  checked_at: string | null;
  created_at: string;
  updated_at: string;
}

/** Where a class is (migration 0011): its node, the ordered fallbacks, the URLs boxes get. */
export interface ClassPlacementsTable {
  /** A centre's id (its own room). */
  class_id: string;
  node_id: string;
  /** JSON array of node ids, in the order a box tries them. */
  fallback_ids_json: string;
  /** JSON array of WebSocket URLs: the node's first, then the fallbacks'. */
  urls_json: string;
  room: number;
  placed_at: string;
}

/** Lesson catch-up (issue 21): per box and class, what it missed and replayed, from its heartbeats. */
export interface CatchupClassesTable {
  device_id: string;
  class_id: string;
  centre_id: string;
  /** When the box joined the class (ISO). */
  joined_at: string;
  missed_ms: number;
  caught_up_ms: number;
  updated_at: string;
}

export interface FleetDatabase {
  catchup_classes: CatchupClassesTable;
  media_nodes: MediaNodesTable;
  class_placements: ClassPlacementsTable;
  device_vitals_minute: VitalsTable;
  device_vitals_hour: VitalsTable;
  centres: CentresTable;
  devices: DevicesTable;
  enrolment_tokens: EnrolmentTokensTable;
  admins: AdminsTable;
  request_nonces: RequestNoncesTable;
  device_actions: DeviceActionsTable;
  snapshots: SnapshotsTable;
  /** The kiosk screen of the last `screenshot` action, like `snapshots` (migration 0008). */
  screenshots: SnapshotsTable;
  device_logs: DeviceLogsTable;
  releases: ReleasesTable;
  rollouts: RolloutsTable;
  audit_log: AuditLogTable;
}

export type { Generated };
