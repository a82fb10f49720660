import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Overview, OverviewGroups, OverviewQuery } from '../protocol/overview-api.schema.js';
import { OverviewRepository, type CountsRow } from '../repositories/overview.repository.js';
import { DevicesService } from './devices.service.js';
import { FleetClock, FleetOptions } from './fleet-options.js';

const counts = (r: CountsRow): Overview['summary'] => ({
  centres: r.centres,
  boxes: r.boxes,
  online: r.online,
  inClass: r.in_class,
  attention: r.attention,
});

/** The dashboard's overview: one page of the fleet and its counts, with an ETag for cheap refreshes. */
@Injectable()
export class OverviewService {
  constructor(
    private readonly repo: OverviewRepository,
    private readonly devices: DevicesService,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
  ) {}

  async overview(query: OverviewQuery): Promise<{ overview: Overview; etag: string }> {
    const offlineBefore = this.offlineBefore();
    const [{ total, rows }, summary, regions, versions] = await Promise.all([
      this.repo.page(query, offlineBefore),
      this.repo.summary(offlineBefore),
      this.repo.groups(offlineBefore),
      this.repo.versions(),
    ]);
    const overview: Overview = {
      total,
      page: query.page,
      pageSize: query.pageSize,
      pages: Math.max(1, Math.ceil(total / query.pageSize)),
      rows: rows.map((row) => ({
        ...this.devices.toView(row),
        centreName: row.centre_name,
        region: row.region,
      })),
      summary: counts(summary),
      regions: regions.map((r) => ({ region: r.key, ...counts(r) })),
      versions,
    };
    return { overview, etag: etagOf(overview) };
  }

  /** The grouped view: regions, or the centres of one region, each with its boxes' counts. */
  async groups(region?: string): Promise<OverviewGroups> {
    const rows = await this.repo.groups(this.offlineBefore(), region);
    return {
      ...(region !== undefined ? { region } : {}),
      groups: rows.map((r) => ({
        id: r.key,
        name: r.name,
        ...counts(r),
        offline: r.boxes - r.online,
        problem: r.problem,
        updateFailed: r.update_failed,
      })),
    };
  }

  private offlineBefore(): string {
    return new Date(this.clock.now().getTime() - this.options.offlineAfterSec * 1000).toISOString();
  }
}

/**
 * A hash of what the dashboard shows, so a refresh of an unchanged page is a bodiless 304. It leaves
 * out what moves with every heartbeat without changing the picture: an online box's exact last
 * heartbeat (the page says "online"), its uptime, and its temperature below a whole degree. The
 * browser then keeps the body it has, which differs from a fresh one only in those.
 */
function etagOf(overview: Overview): string {
  const shown = {
    ...overview,
    rows: overview.rows.map((row) => ({
      ...row,
      lastSeenAt: row.online ? null : row.lastSeenAt,
      vitals: row.vitals && {
        ...row.vitals,
        uptimeSec: undefined,
        temperatureC: row.vitals.temperatureC === undefined ? undefined : Math.round(row.vitals.temperatureC),
      },
    })),
  };
  return `"${createHash('sha256').update(JSON.stringify(shown)).digest('base64url').slice(0, 27)}"`;
}
