import { Injectable } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import {
  compareReleaseVersions,
  releaseManifestSchema,
  releaseVersion,
  verifyManifest,
  updateReportSchema,
  type ReleaseManifest,
  type UpdateOffer,
  type UpdateReport,
} from '../../common/release-manifest.js';
import { createLogger } from '../../common/logger.js';
import { describeIssues } from '../../common/zod-issues.js';
import { badRequest, FleetApiError, notFound } from '../fleet-errors.js';
import type { CreateRelease, CreateRollout } from '../protocol/releases-api.schema.js';
import { FleetRepository } from '../repositories/fleet.repository.js';
import { ReleasePayloadRepository } from '../repositories/release-payload.repository.js';
import type { SignedDeviceRow } from '../repositories/device-hot-path.repository.js';
import { ReleasesRepository, type ReleaseRow, type RolloutRow } from '../repositories/releases.repository.js';
import { FleetClock, FleetOptions } from './fleet-options.js';
import type {
  DeviceUpdateView,
  ReleaseView,
  RolloutProgress,
  RolloutView,
} from '../protocol/admin-views.schema.js';
export type { RolloutView, ReleaseView, DeviceUpdateView, RolloutProgress };

const KIND_RANK: Record<string, number> = { device: 0, centre: 1, channel: 2 };

/**
 * Releases and who gets them. A box's target is the newest rollout aimed at it — by device,
 * else by centre, else by channel — whose staged share includes it; a box left out of a
 * staged rollout keeps the target of the rollout before it.
 */
@Injectable()
export class ReleasesService {
  private readonly log = createLogger(ReleasesService.name);
  /**
   * Every rollout, for heartbeats: a box under a rollout would otherwise cost two reads per heartbeat
   * (issue 17). Rollouts are only ever added (no route edits or deletes one), so the list is read
   * again only when a heartbeat's device row counts more rollouts aimed at the box than the list
   * holds — one made on this replica or another.
   */
  private rollouts: Promise<RolloutRow[]> | undefined;
  /** Ready releases by version: a ready release never changes (its payload can't be replaced). */
  private readonly readyReleases = new Map<string, ReleaseRow>();

  constructor(
    private readonly repo: ReleasesRepository,
    private readonly fleet: FleetRepository,
    private readonly payloads: ReleasePayloadRepository,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
  ) {}

  async create(input: CreateRelease): Promise<ReleaseView> {
    const manifest = parseManifest(input.manifest);
    if (manifest.payload.size > this.options.maxReleaseBytes) {
      throw new FleetApiError(
        413,
        'E-TOO-LARGE',
        `release ${manifest.version} declares a ${manifest.payload.size}-byte payload; this server takes at most ${this.options.maxReleaseBytes} bytes (--max-release-bytes)`,
      );
    }
    // Checked here too, not only on the box: a release no box would accept is never offered.
    if (this.options.trustedReleaseKeys.length === 0) {
      throw new FleetApiError(
        409,
        'E-RELEASE-KEYS-UNSET',
        'this fleet server trusts no release key; start it with --release-keys DIR (the public keys the boxes trust)',
      );
    }
    const verdict = verifyManifest(input.manifest, input.signature, this.options.trustedReleaseKeys);
    if (!verdict.ok) {
      throw new FleetApiError(
        400,
        verdict.code === 'E-UPDATE-KEY-UNKNOWN' ? 'E-RELEASE-KEY-UNKNOWN' : 'E-RELEASE-SIGNATURE',
        verdict.message.replace('this box does not trust', 'this fleet server does not trust'),
      );
    }
    const now = this.clock.now().toISOString();
    const inserted = await this.repo.insertRelease({
      version: manifest.version,
      manifest: input.manifest,
      signature_json: JSON.stringify(input.signature),
      arch: manifest.arch,
      size: manifest.payload.size,
      sha256: manifest.payload.sha256,
      status: 'awaiting-payload',
      created_at: now,
      updated_at: now,
    });
    if (!inserted) {
      throw new FleetApiError(409, 'E-RELEASE-EXISTS', `release ${manifest.version} exists already`);
    }
    this.log.info(
      `Registered release version=${manifest.version} arch=${manifest.arch} key=${input.signature.keyId}`,
    );
    return this.get(manifest.version);
  }

  /**
   * The payload must be exactly what the manifest says, byte for byte: it is checked on a
   * temporary file and moved into place only when size and hash both match. A release that
   * is ready keeps its payload: it can't be replaced.
   */
  async upload(version: string, body: Readable): Promise<ReleaseView> {
    const release = await this.row(version);
    if (release.status === 'ready') {
      body.resume();
      throw new FleetApiError(
        409,
        'E-RELEASE-READY',
        `release ${version} has its payload already; a ready release can't be changed (publish a new version)`,
      );
    }
    const got = await this.payloads.save(version, body, {
      size: Number(release.size),
      sha256: release.sha256,
    });
    await this.repo.setReleaseStatus(version, 'ready', this.clock.now().toISOString());
    this.log.info(`Stored release payload version=${version} bytes=${got.size}`);
    return this.get(version);
  }

  async list(): Promise<ReleaseView[]> {
    const [releases, rollouts] = await Promise.all([this.repo.listReleases(), this.repo.listRollouts()]);
    return releases.map((r) => releaseView(r, rollouts));
  }

  async get(version: string): Promise<ReleaseView> {
    return releaseView(await this.row(version), await this.repo.listRollouts(version));
  }

  async rollout(version: string, input: CreateRollout): Promise<RolloutView> {
    const release = await this.row(version);
    if (release.status !== 'ready') {
      throw new FleetApiError(
        409,
        'E-RELEASE-NOT-READY',
        `release ${version} has no payload yet; upload it first`,
      );
    }
    const target: [string, string] =
      input.device !== undefined
        ? ['device', input.device]
        : input.centre !== undefined
          ? ['centre', input.centre]
          : ['channel', input.channel!];
    if (target[0] === 'device' && !(await this.fleet.findDevice(target[1])))
      throw notFound('device', target[1]);
    if (target[0] === 'centre' && !(await this.fleet.findCentre(target[1])))
      throw notFound('centre', target[1]);
    const newer = await this.newerRolledOut(target[0], target[1], version);
    if (newer !== undefined && !input.force) {
      throw new FleetApiError(
        409,
        'E-ROLLOUT-DOWNGRADE',
        `release ${version} is older than ${newer}, already rolled out to ${target[0]} "${target[1]}": boxes that ran ${newer} refuse it unless its manifest allows a rollback. To roll it out anyway, force it (CLI --force, API "force": true)`,
      );
    }
    if (newer !== undefined)
      this.log.warn(
        `Forced rollout of an older release version=${version} newer=${newer} ${target[0]}=${target[1]}`,
      );
    const now = this.clock.now().toISOString();
    const row: RolloutRow = {
      id: randomUUID(),
      version,
      target_kind: target[0],
      target_id: target[1],
      percent: input.percent,
      state: 'active',
      created_at: now,
      updated_at: now,
    };
    await this.repo.insertRollout(row);
    this.log.info(`Rolled out release version=${version} ${target[0]}=${target[1]} percent=${input.percent}`);
    return rolloutView(row);
  }

  /** Pause (no new offers), resume, or abort (for good) a rollout. */
  async changeRollout(id: string, action: 'pause' | 'resume' | 'abort'): Promise<RolloutView> {
    const row = await this.repo.findRollout(id);
    if (!row) throw notFound('rollout', id);
    const [from, to] = ROLLOUT_ACTIONS[action];
    if (!(await this.repo.setRolloutState(id, from, to, this.clock.now().toISOString()))) {
      const now = (await this.repo.findRollout(id))?.state ?? row.state;
      throw new FleetApiError(409, 'E-ROLLOUT-STATE', `can't ${action} rollout ${id}: it is ${now}`);
    }
    this.rollouts = undefined;
    this.log.info(`Changed rollout rollout=${id} version=${row.version} action=${action} state=${to}`);
    return rolloutView((await this.repo.findRollout(id))!);
  }

  async rolloutProgress(id: string): Promise<RolloutProgress> {
    const row = await this.repo.findRollout(id);
    if (!row) throw notFound('rollout', id);
    const onlineSince = this.clock.now().getTime() - this.options.offlineAfterSec * 1000;
    const devices = await this.repo.rolloutTargetDevices(row.target_kind, row.target_id);
    const progress: RolloutProgress = {
      rollout: rolloutView(row),
      boxes: devices.length,
      offered: 0,
      downloading: 0,
      installed: 0,
      healthy: 0,
      rolledBack: 0,
    };
    for (const device of devices) {
      if (!inShare(device.id, row)) continue;
      progress.offered++;
      const report = device.update_json
        ? updateReportSchema.safeParse(JSON.parse(device.update_json)).data
        : undefined;
      const online = device.last_seen_at !== null && Date.parse(device.last_seen_at) >= onlineSince;
      if (device.version === row.version && online) progress.healthy++;
      if (report?.version !== row.version) continue;
      if (report.state === 'installed') progress.installed++;
      else if (report.state === 'failed' || report.state === 'rolled-back') progress.rolledBack++;
      else progress.downloading++;
    }
    return progress;
  }

  async setChannel(deviceId: string, channel: string): Promise<DeviceUpdateView> {
    if (!(await this.fleet.findDevice(deviceId))) throw notFound('device', deviceId);
    await this.repo.setChannel(deviceId, channel, this.clock.now().toISOString());
    this.log.info(`Moved device to channel device=${deviceId} channel=${channel}`);
    return this.deviceUpdate(deviceId);
  }

  async deviceUpdate(deviceId: string): Promise<DeviceUpdateView> {
    const device = await this.repo.findDeviceUpdate(deviceId);
    if (!device) throw notFound('device', deviceId);
    const target = await this.target(device);
    let report: UpdateReport | null = null;
    if (device.update_json) {
      const parsed = updateReportSchema.safeParse(JSON.parse(device.update_json));
      report = parsed.success ? parsed.data : null;
    }
    return {
      deviceId,
      channel: device.channel,
      runningVersion: device.version,
      targetVersion: target?.version ?? null,
      report,
    };
  }

  /** Called with every heartbeat: keep the box's report, answer with its target. */
  /** After a heartbeat, from the row its request was checked with: rollouts are read only if any aim at it. */
  async onHeartbeat(
    device: SignedDeviceRow,
    report: UpdateReport | undefined,
  ): Promise<UpdateOffer | undefined> {
    const deviceId = device.id;
    const json = report ? JSON.stringify(report) : null;
    if (json !== device.update_json) {
      await this.repo.saveUpdateReport(deviceId, json);
      if (report && ['installed', 'failed', 'rolled-back'].includes(report.state)) {
        const line = `Reported update device=${deviceId} version=${report.version} result=${report.state}${report.code ? ` code=${report.code}` : ''}`;
        if (report.state === 'installed') this.log.info(line);
        else this.log.warn(line);
      }
    }
    if (device.rollouts_aimed === 0) return undefined;
    const target = await this.heartbeatTarget(device);
    if (!target) return undefined;
    return {
      version: target.version,
      manifest: target.manifest,
      signature: JSON.parse(target.signature_json) as UpdateOffer['signature'],
      payloadPath: `/api/v1/devices/${encodeURIComponent(deviceId)}/releases/${encodeURIComponent(target.version)}/payload`,
    };
  }

  /** The payload for a device download: only the release it is offered. */
  async payloadFor(
    deviceId: string,
    version: string,
  ): Promise<{ size: number; open: (start: number, end: number) => Readable }> {
    const device = await this.repo.findDeviceUpdate(deviceId);
    if (!device) throw notFound('device', deviceId);
    const target = await this.target(device);
    if (target?.version !== version) {
      throw new FleetApiError(
        404,
        'E-NOT-FOUND',
        `release ${version} is not offered to device "${deviceId}"`,
      );
    }
    const size = await this.payloads.size(version);
    if (size === undefined)
      throw new FleetApiError(404, 'E-NOT-FOUND', `the payload of release ${version} is missing`);
    return { size, open: (start, end) => this.payloads.open(version, start, end) };
  }

  private async target(device: {
    id: string;
    centre_id: string;
    channel: string;
  }): Promise<ReleaseRow | undefined> {
    const rollouts = (
      await this.repo.rolloutsFor({
        deviceId: device.id,
        centreId: device.centre_id,
        channel: device.channel,
      })
    ).sort((a, b) => (KIND_RANK[a.target_kind] ?? 9) - (KIND_RANK[b.target_kind] ?? 9));
    const chosen = rollouts.find((r) => inShare(device.id, r));
    return chosen && this.repo.findRelease(chosen.version);
  }

  /** `target`, from the cached rollouts and releases: no read while nothing was rolled out anew. */
  private async heartbeatTarget(device: SignedDeviceRow): Promise<ReleaseRow | undefined> {
    let aimed = aimedAt(device, await this.allRollouts());
    // The row counts the active rollouts aimed at the box: one made, paused, resumed or aborted on any
    // replica since this one's list was read changes the count, and the list is read again.
    if (aimed.length !== device.rollouts_aimed) {
      this.rollouts = undefined;
      aimed = aimedAt(device, await this.allRollouts());
    }
    for (const rollout of aimed) {
      // Like `rolloutsFor`'s join: a rollout counts only once its release is ready.
      const release = inShare(device.id, rollout) ? await this.readyRelease(rollout.version) : undefined;
      if (release) return release;
    }
    return undefined;
  }

  /** One read shared by the heartbeats that arrive while it runs; a failed read is tried again next time. */
  private allRollouts(): Promise<RolloutRow[]> {
    const loading = (this.rollouts ??= this.repo.listRollouts());
    loading.catch(() => {
      if (this.rollouts === loading) this.rollouts = undefined;
    });
    return loading;
  }

  private async readyRelease(version: string): Promise<ReleaseRow | undefined> {
    const cached = this.readyReleases.get(version);
    if (cached) return cached;
    const row = await this.repo.findRelease(version);
    if (row?.status !== 'ready') return undefined;
    this.readyReleases.set(version, row);
    return row;
  }

  /** The newest version rolled out to that target, when it is newer than `version`. */
  private async newerRolledOut(kind: string, id: string, version: string): Promise<string | undefined> {
    const newest = (await this.repo.listRollouts())
      .filter((r) => r.target_kind === kind && r.target_id === id)
      .map((r) => r.version)
      .filter((v) => releaseVersion.safeParse(v).success)
      .sort(compareReleaseVersions)
      .at(-1);
    return newest !== undefined && compareReleaseVersions(newest, version) > 0 ? newest : undefined;
  }

  private async row(version: string): Promise<ReleaseRow> {
    const row = await this.repo.findRelease(version);
    if (!row) throw notFound('release', version);
    return row;
  }
}

/** The active rollouts aimed at a device in `rolloutsFor`'s order: by kind, then the newest first. */
function aimedAt(
  device: { id: string; centre_id: string; channel: string },
  rollouts: RolloutRow[],
): RolloutRow[] {
  return (
    rollouts
      .filter(
        (r) =>
          r.state === 'active' &&
          ((r.target_kind === 'device' && r.target_id === device.id) ||
            (r.target_kind === 'centre' && r.target_id === device.centre_id) ||
            (r.target_kind === 'channel' && r.target_id === device.channel)),
      )
      .sort((a, b) =>
        a.created_at === b.created_at ? (a.id < b.id ? 1 : -1) : a.created_at < b.created_at ? 1 : -1,
      )
      // Stable: within a kind the newest stays first.
      .sort((a, b) => (KIND_RANK[a.target_kind] ?? 9) - (KIND_RANK[b.target_kind] ?? 9))
  );
}
const rolloutStateSchema = z.enum(['active', 'paused', 'aborted']);
const ROLLOUT_ACTIONS: Record<'pause' | 'resume' | 'abort', [from: string[], to: string]> = {
  pause: [['active'], 'paused'],
  resume: [['paused'], 'active'],
  abort: [['active', 'paused'], 'aborted'],
};

/** A stable bucket 0–99 per device and release: raising the share only ever adds boxes. */
export function inShare(deviceId: string, rollout: { version: string; percent: number }): boolean {
  if (rollout.percent >= 100) return true;
  const bucket = createHash('sha256').update(`${rollout.version}:${deviceId}`).digest().readUInt32BE(0) % 100;
  return bucket < rollout.percent;
}

function parseManifest(text: string): ReleaseManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw badRequest('invalid release: the manifest is not JSON');
  }
  const parsed = releaseManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const details = describeIssues(parsed.error);
    throw badRequest(`invalid release manifest: ${details.join('; ')}`, details);
  }
  return parsed.data;
}

function rolloutView(row: RolloutRow): RolloutView {
  return {
    id: row.id,
    version: row.version,
    target: { kind: row.target_kind, id: row.target_id },
    percent: Number(row.percent),
    state: rolloutStateSchema.catch('active').parse(row.state),
    createdAt: row.created_at,
  };
}

function releaseView(row: ReleaseRow, rollouts: RolloutRow[]): ReleaseView {
  return {
    version: row.version,
    arch: row.arch,
    size: Number(row.size),
    sha256: row.sha256,
    keyId: (JSON.parse(row.signature_json) as { keyId: string }).keyId,
    status: row.status,
    createdAt: row.created_at,
    rollouts: rollouts.filter((r) => r.version === row.version).map(rolloutView),
  };
}
