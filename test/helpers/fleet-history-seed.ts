import { sql } from 'kysely';
import type { FleetDb } from '../../provisioning/db/database.js';
import type { VitalsTable } from '../../provisioning/db/schema.js';

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** What a box's last 24 h per minute were, as the test stored them (for comparing with the plots). */
export interface SeededMinutes {
  at: string[];
  temperatureC: number[];
  uplinkKbps: number[];
  rttMs: number[];
  /** Minute indexes [from, to) of the one class held. */
  classMinutes: [number, number];
}

const base = (deviceId: string, at: string): VitalsTable => ({
  device_id: deviceId,
  centre_id: deviceId.slice(0, 5),
  at,
  minutes: 1,
  beats: 2,
  live_minutes: 0,
  audio_only_minutes: 0,
  update_failed_minutes: 0,
  temp_sum: 0,
  temp_max: null,
  temp_n: 0,
  rtt_sum: 0,
  rtt_n: 0,
  uplink_sum: 0,
  uplink_n: 0,
  loss_sum: 0,
  loss_n: 0,
});

/** 24 h of one box per minute, with a 90-minute class 10 h ago; every figure known to the test. */
export async function seedBoxMinutes(db: FleetDb, deviceId: string, now: Date): Promise<SeededMinutes> {
  const first = Math.floor(now.getTime() / MINUTE_MS) * MINUTE_MS - 1439 * MINUTE_MS;
  const seeded: SeededMinutes = {
    at: [],
    temperatureC: [],
    uplinkKbps: [],
    rttMs: [],
    classMinutes: [840, 930],
  };
  const rows: VitalsTable[] = [];
  for (let i = 0; i < 1440; i++) {
    const at = new Date(first + i * MINUTE_MS).toISOString();
    const temperature = 45 + (i % 20);
    const uplink = 200 + ((i * 7) % 300);
    const rtt = 30 + (i % 40);
    seeded.at.push(at);
    seeded.temperatureC.push(temperature);
    seeded.uplinkKbps.push(uplink);
    seeded.rttMs.push(rtt);
    const live = i >= seeded.classMinutes[0] && i < seeded.classMinutes[1] ? 1 : 0;
    rows.push({
      ...base(deviceId, at),
      live_minutes: live,
      temp_sum: temperature * 2,
      temp_max: temperature,
      temp_n: 2,
      uplink_sum: uplink,
      uplink_n: 1,
      rtt_sum: rtt,
      rtt_n: 1,
    });
  }
  for (let i = 0; i < rows.length; i += 500)
    await db
      .insertInto('device_vitals_minute')
      .values(rows.slice(i, i + 500))
      .execute();
  return seeded;
}

/**
 * `days` of hourly history for every box, in one statement over the devices and a table of the
 * hours, in primary-key order (device, hour) so the B-tree is filled in order: every box heard each
 * hour; boxes of even-numbered centres (`c0000`, `c0002`, …) hold a class 09:00–11:00 China time
 * every day; boxes whose seeded update failed report it every hour.
 */
export async function seedFleetHours(db: FleetDb, now: Date, days: number): Promise<string[]> {
  const lastHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS - HOUR_MS;
  const hours: string[] = [];
  for (let h = days * 24 - 1; h >= 0; h--) hours.push(new Date(lastHour - h * HOUR_MS).toISOString());
  await sql`CREATE TABLE seed_hours (at text NOT NULL, live integer NOT NULL)`.execute(db);
  try {
    for (let i = 0; i < hours.length; i += 500) {
      // 09:00–11:00 in China (UTC+8) is 01:00–03:00 UTC.
      const rows = hours.slice(i, i + 500).map((at) => {
        const utcHour = new Date(at).getUTCHours();
        return sql`(${at}, ${utcHour === 1 || utcHour === 2 ? 60 : 0})`;
      });
      await sql`INSERT INTO seed_hours (at, live) VALUES ${sql.join(rows)}`.execute(db);
    }
    await sql`INSERT INTO device_vitals_hour (device_id, centre_id, at, minutes, beats, live_minutes, audio_only_minutes,
        update_failed_minutes, temp_sum, temp_max, temp_n, rtt_sum, rtt_n, uplink_sum, uplink_n, loss_sum, loss_n)
      SELECT d.id, d.centre_id, h.at, 60, 120,
        CASE WHEN substr(d.id, 5, 1) IN ('0', '2', '4', '6', '8') THEN h.live ELSE 0 END, 0,
        CASE WHEN d.update_json IS NOT NULL THEN 60 ELSE 0 END, 6000, 58, 120, 4800, 120, 0, 0, 0, 0
      FROM devices d CROSS JOIN seed_hours h
      ORDER BY d.id, h.at`.execute(db);
  } finally {
    await sql`DROP TABLE seed_hours`.execute(db);
  }
  return hours;
}
