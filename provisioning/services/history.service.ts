import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { HOUR_MS, hourOf, MINUTE_MS, sessionsOf } from '../domain/vitals-buckets.js';
import { notFound } from '../fleet-errors.js';
import type {
  DeviceHistory,
  DeviceHistoryQuery,
  FleetHistory,
  FleetHistoryQuery,
} from '../protocol/history-api.schema.js';
import { FleetRepository } from '../repositories/fleet.repository.js';
import { HistoryRepository, type VitalsRow } from '../repositories/history.repository.js';
import { FleetClock, FleetOptions } from './fleet-options.js';
import { VitalsHistoryBuffer } from './vitals-history-buffer.service.js';

const DAY_MS = 24 * HOUR_MS;
/** Per minute for 7 days, per hour for 180 days (issue 18). */
export const MINUTE_RETENTION_MS = 7 * DAY_MS;
export const HOUR_RETENTION_MS = 180 * DAY_MS;
/** How often the server rolls minutes into hours and prunes; every replica may do it (it is idempotent). */
const MAINTAIN_MS = 5 * MINUTE_MS;
/** Hours rolled up again each time, so a late heartbeat or a missed run still lands in its hour. */
const ROLL_UP_HOURS = 3;
/** China Standard Time: the days of the plots are the centres' days (no daylight saving). */
const CST_OFFSET_MS = 8 * HOUR_MS;

const avg = (sum: number, n: number): number | null => (n > 0 ? Math.round((sum / n) * 10) / 10 : null);

/** The boxes' vitals history: kept per minute and per hour, pruned, and read for the plots. */
@Injectable()
export class HistoryService implements OnModuleInit, OnApplicationShutdown {
  private readonly log = createLogger(HistoryService.name);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly repo: HistoryRepository,
    private readonly fleet: FleetRepository,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
    private readonly buffer: VitalsHistoryBuffer,
  ) {}

  onModuleInit(): void {
    if (!this.options.history) return;
    this.timer = setInterval(() => void this.maintain(), MAINTAIN_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Roll the last hours up and prune what is past its retention; logged, never thrown. */
  maintain(): Promise<void> {
    this.running ??= (async () => {
      try {
        // The minutes still in memory first, or their hour would be rolled up without them.
        await this.buffer.flush();
        const now = this.clock.now().getTime();
        const to = hourOf(new Date(now + HOUR_MS).toISOString());
        const from = new Date(Date.parse(to) - (ROLL_UP_HOURS + 1) * HOUR_MS).toISOString();
        await this.repo.rollUpHours(from, to);
        const minutes = await this.repo.pruneBefore(
          'device_vitals_minute',
          new Date(now - MINUTE_RETENTION_MS).toISOString(),
        );
        const hours = await this.repo.pruneBefore(
          'device_vitals_hour',
          new Date(now - HOUR_RETENTION_MS).toISOString(),
        );
        if (minutes + hours > 0) this.log.info(`Pruned history minuteRows=${minutes} hourRows=${hours}`);
      } catch (error) {
        this.log.error(`Can't roll up or prune the history: ${reason(error)}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async device(deviceId: string, query: DeviceHistoryQuery): Promise<DeviceHistory> {
    if (!(await this.fleet.findDevice(deviceId))) throw notFound('device', deviceId);
    // This replica's minutes still in memory, so the plot reaches the last heartbeat it took.
    await this.buffer.flush();
    const perMinute = query.range === '24h';
    const bucketMs = perMinute ? MINUTE_MS : HOUR_MS;
    const now = this.clock.now().getTime();
    const from = new Date(now - (perMinute ? DAY_MS : 7 * DAY_MS)).toISOString();
    const rows = await this.repo.deviceBuckets(
      perMinute ? 'device_vitals_minute' : 'device_vitals_hour',
      deviceId,
      perMinute ? from : hourOf(from),
    );
    const n = (v: number | string) => Number(v);
    const column = (f: (r: VitalsRow) => number | null) => rows.map(f);
    return {
      deviceId,
      range: query.range,
      bucketSec: bucketMs / 1000,
      from,
      t: column((r) => Date.parse(r.at) / 1000) as number[],
      beats: column((r) => n(r.beats)) as number[],
      temperatureC: column((r) => avg(n(r.temp_sum), n(r.temp_n))),
      temperatureMaxC: column((r) => (r.temp_max === null ? null : n(r.temp_max))),
      rttMs: column((r) => avg(n(r.rtt_sum), n(r.rtt_n))),
      uplinkKbps: column((r) => avg(n(r.uplink_sum), n(r.uplink_n))),
      lossPercent: column((r) => avg(n(r.loss_sum), n(r.loss_n))),
      inClass: column((r) => n(r.live_minutes) / Math.max(1, n(r.minutes))) as number[],
      audioOnly: column((r) => n(r.audio_only_minutes) / Math.max(1, n(r.minutes))) as number[],
      sessions: sessionsOf(
        rows.map((r) => ({ at: r.at, liveMinutes: n(r.live_minutes) })),
        bucketMs,
      ),
    };
  }

  async fleetWide(query: FleetHistoryQuery): Promise<FleetHistory> {
    const now = this.clock.now().getTime();
    // Whole days in China Standard Time, the last one being today.
    const todayCst = Math.floor((now + CST_OFFSET_MS) / DAY_MS) * DAY_MS;
    const fromMs = todayCst - (query.days - 1) * DAY_MS - CST_OFFSET_MS;
    const from = new Date(fromMs).toISOString();
    const dayIndex = (iso: string) => Math.floor((Date.parse(iso) - fromMs) / DAY_MS);
    const dayLabels = Array.from({ length: query.days }, (_, i) =>
      new Date(fromMs + CST_OFFSET_MS + i * DAY_MS).toISOString().slice(0, 10),
    );
    const [hours, failures] = await Promise.all([
      this.repo.fleetHours(from, query.region),
      this.repo.updateFailureHours(from, query.region),
    ]);
    const online = new Map<string, number>();
    const groups = new Map<string, { id: string; name: string; hours: number[] }>();
    for (const row of hours) {
      online.set(row.at, (online.get(row.at) ?? 0) + Number(row.boxes));
      let group = groups.get(row.group_id);
      if (!group) {
        group = { id: row.group_id, name: row.group_name, hours: dayLabels.map(() => 0) };
        groups.set(row.group_id, group);
      }
      const day = dayIndex(row.at);
      if (day >= 0 && day < query.days) group.hours[day]! += Number(row.live_minutes ?? 0) / 60;
    }
    const failedPerDay = dayLabels.map(() => new Set<string>());
    for (const f of failures) failedPerDay[dayIndex(f.at)]?.add(f.device_id);
    const times = [...online.keys()].sort();
    return {
      days: query.days,
      region: query.region ?? null,
      online: { t: times.map((t) => Date.parse(t) / 1000), boxes: times.map((t) => online.get(t)!) },
      dayLabels,
      classHours: [...groups.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map((g) => ({ ...g, hours: g.hours.map((h) => Math.round(h * 100) / 100) })),
      updateFailures: failedPerDay.map((s) => s.size),
    };
  }
}
