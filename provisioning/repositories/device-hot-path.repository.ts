/**
 * A device row as every signed request needs it, read in one statement: the key to check the
 * signature, what the heartbeat answer is built from (the centre's room and timetable for the config
 * ETag, the channel and update report for releases), and whether the rarer follow-up reads are
 * needed at all (open actions, how many rollouts aim at it).
 */
export interface SignedDeviceRow {
  id: string;
  centre_id: string;
  display_name: string;
  public_key: string;
  state: string | null;
  channel: string;
  update_json: string | null;
  centre_name: string;
  room_json: string;
  timetable_json: string;
  timezone: string;
  /** The class's media node URLs, primary first (issue 19); null while it is not placed. */
  placement_urls_json: string | null;
  has_open_actions: boolean;
  /**
   * How many rollouts aim at it (by device, centre or channel). Rollouts are only ever added, so a
   * replica whose cached rollouts aim fewer at this box knows it missed one (made on another replica)
   * without reading the list per heartbeat.
   */
  rollouts_aimed: number;
}

export interface NonceRecord {
  deviceId: string;
  nonce: string;
  /** Server time, ISO-8601: the sweep forgets nonces by it. */
  seenAt: string;
}

export interface HeartbeatRecord {
  deviceId: string;
  /** The request's signed timestamp (ms, the box's clock): heartbeats are applied in this order. */
  signedAtMs: number;
  /** Server time, ISO-8601. */
  seenAt: string;
  state: string;
  errorCode: string | null;
  healthJson: string;
  version: string;
  vitalsJson: string;
}

/** A verified heartbeat whose nonce is stored with it, in the same transaction. */
export interface SignedHeartbeat {
  nonce: NonceRecord;
  beat: HeartbeatRecord;
}

/**
 * The statements of the heartbeat hot path, prepared once and reused, on the driver under Kysely.
 * One read per request, and writes that take a whole batch in one transaction (group commit).
 */
export abstract class DeviceHotPathRepository {
  abstract findSignedDevice(id: string): Promise<SignedDeviceRow | undefined>;
  /**
   * Remembers each nonce in one transaction: true for a nonce not seen before for its device,
   * false for a replay (the unique key refuses it, on this server or any replica).
   */
  abstract rememberNonces(items: readonly NonceRecord[]): Promise<boolean[]>;
  /**
   * Remembers each heartbeat's nonce and stores the heartbeats whose nonce is new (unless the row
   * already shows a newer heartbeat), in one transaction: true for a stored one, false for a replay.
   * A heartbeat costs one write, not a nonce insert and an update in two (issue 17).
   */
  abstract saveHeartbeats(items: readonly SignedHeartbeat[]): Promise<boolean[]>;
}

/** Columns of `SignedDeviceRow`; the read is the same on both databases but for placeholders. */
export function signedDeviceSql(placeholder: string): string {
  return `SELECT d.id, d.centre_id, d.display_name, d.public_key, d.state, d.channel, d.update_json,
  c.name AS centre_name, c.room_json, c.timetable_json, c.timezone, p.urls_json AS placement_urls_json,
  EXISTS (SELECT 1 FROM device_actions a
          WHERE a.device_id = d.id AND a.status IN ('pending', 'sent')) AS has_open_actions,
  (SELECT count(*) FROM rollouts r
   WHERE r.state = 'active'
     AND ((r.target_kind = 'device' AND r.target_id = d.id)
      OR (r.target_kind = 'centre' AND r.target_id = d.centre_id)
      OR (r.target_kind = 'channel' AND r.target_id = d.channel))) AS rollouts_aimed
FROM devices d JOIN centres c ON c.id = d.centre_id
LEFT JOIN class_placements p ON p.class_id = d.centre_id
WHERE d.id = ${placeholder}`;
}
