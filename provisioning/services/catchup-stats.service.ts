import { Injectable } from '@nestjs/common';
import type { CatchupReport } from '../../common/catchup-protocol.js';
import { CatchupStatsRepository } from '../repositories/catchup-stats.repository.js';
import { FleetClock } from './fleet-options.js';

/** Per centre, what its boxes missed of their classes and replayed (issue 21), for IT's dashboard. */
export interface CatchupCentreView {
  centreId: string;
  classes: number;
  missedMinutes: number;
  caughtUpMinutes: number;
}

@Injectable()
export class CatchupStatsService {
  constructor(
    private readonly repo: CatchupStatsRepository,
    private readonly clock: FleetClock,
  ) {}

  /** A heartbeat's report: each class's latest totals replace the ones before. */
  async record(deviceId: string, centreId: string, report: CatchupReport): Promise<void> {
    await this.repo.upsert(
      report.classes.map((c) => ({
        deviceId,
        classId: c.classId,
        centreId,
        joinedAt: new Date(c.joinedAtMs).toISOString(),
        missedMs: c.missed.reduce((sum, m) => sum + (m.toMs - m.fromMs), 0),
        caughtUpMs: c.caughtUpMs,
      })),
      this.clock.now().toISOString(),
    );
  }

  /** The last `days` days, per centre. */
  async perCentre(days: number): Promise<{ since: string; centres: CatchupCentreView[] }> {
    const since = new Date(this.clock.now().getTime() - days * 86_400_000).toISOString();
    const rows = await this.repo.perCentre(since);
    return {
      since,
      centres: rows.map((r) => ({
        centreId: r.centreId,
        classes: r.classes,
        missedMinutes: Math.round(r.missedMs / 6000) / 10,
        caughtUpMinutes: Math.round(Math.min(r.caughtUpMs, r.missedMs) / 6000) / 10,
      })),
    };
  }
}
