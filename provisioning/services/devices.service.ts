import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ActionKind, ActionResult, Heartbeat, HeartbeatResponse } from '../../common/fleet-protocol.js';
import { updateReportSchema } from '../../common/release-manifest.js';
import { redactSecrets } from '../../common/redact.js';
import { createLogger } from '../../common/logger.js';
import { FleetApiError, notFound } from '../fleet-errors.js';
import { GroupCommit } from '../domain/group-commit.js';
import type { VitalsBeat } from '../domain/vitals-buckets.js';
import {
  DeviceHotPathRepository,
  type HeartbeatRecord,
  type NonceRecord,
} from '../repositories/device-hot-path.repository.js';
import { FleetRepository, type ActionRow, type DeviceRow } from '../repositories/fleet.repository.js';
import { DesiredConfigService } from './desired-config.service.js';
import { FleetClock, FleetOptions } from './fleet-options.js';
import { VitalsHistoryBuffer } from './vitals-history-buffer.service.js';
import { replayed, type SignedDevice } from './request-signature.service.js';
import type { DeviceView, ActionView, DeviceLogsView } from '../protocol/admin-views.schema.js';
export type { DeviceView, ActionView, DeviceLogsView };
type HealthItem = DeviceView['health'][string];

/** Heartbeats per transaction at most; under load a batch holds what arrived during the previous one. */
const MAX_HEARTBEAT_BATCH = 512;

/** Boxes: heartbeats in, state out to the dashboard, remote actions both ways. */
@Injectable()
export class DevicesService {
  private readonly log = createLogger(DevicesService.name);
  private readonly heartbeats: GroupCommit<
    { nonce: NonceRecord; beat: HeartbeatRecord; vitals?: VitalsBeat },
    boolean
  >;

  constructor(
    private readonly repo: FleetRepository,
    hotPath: DeviceHotPathRepository,
    private readonly desired: DesiredConfigService,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
    history: VitalsHistoryBuffer,
  ) {
    this.heartbeats = new GroupCommit(
      async (items) => {
        const stored = await hotPath.saveHeartbeats(items.map(({ nonce, beat }) => ({ nonce, beat })));
        // Only stored heartbeats count in the history; its minutes are written later, whole (issue 17).
        history.add(items.flatMap((i, k) => (stored[k] ? (i.vitals ?? []) : [])));
        return stored;
      },
      MAX_HEARTBEAT_BATCH,
      setImmediate,
    );
  }

  async list(centreId?: string): Promise<DeviceView[]> {
    return (await this.repo.listDevices(centreId)).map((row) => this.toView(row));
  }

  async get(id: string): Promise<DeviceView> {
    return this.toView(await this.row(id));
  }

  async rename(id: string, displayName: string): Promise<DeviceView> {
    await this.row(id);
    await this.repo.updateDevice(id, {
      display_name: displayName,
      updated_at: this.clock.now().toISOString(),
    });
    this.log.info(`Renamed device device=${id}`);
    return this.get(id);
  }

  /**
   * One heartbeat: its write joins the others arriving meanwhile in one transaction (and is
   * committed before the answer), and only a box with open actions costs a further read.
   */
  async heartbeat(signed: SignedDevice, beat: Heartbeat): Promise<HeartbeatResponse> {
    const { row: before, signedAtMs } = signed;
    const id = before.id;
    const now = this.clock.now().toISOString();
    const vitals = beat.vitals;
    if (!signed.nonceToStore)
      throw new Error('a heartbeat needs its nonce to store: the route lacks @StoresNonceItself()');
    const stored = await this.heartbeats.submit({
      nonce: signed.nonceToStore,
      vitals: {
        deviceId: id,
        centreId: before.centre_id,
        seenAt: now,
        live: (vitals?.state ?? beat.state) === 'live' || (vitals?.state ?? beat.state) === 'reconnecting',
        audioOnly: vitals?.audioOnly === true,
        updateFailed: beat.update?.state === 'failed' || beat.update?.state === 'rolled-back',
        // An older box sends its temperature and fleet RTT outside `vitals`: its history still has them.
        temperatureC: vitals?.cpuTemperatureC ?? beat.temperatureC,
        rttMs: vitals?.rttMs ?? beat.network.rttMs,
        uplinkKbps: vitals?.uplinkKbps,
        lossPercent: vitals?.lossPercent,
      },
      beat: {
        deviceId: id,
        signedAtMs,
        seenAt: now,
        state: beat.state,
        errorCode: beat.errorCode ?? null,
        healthJson: JSON.stringify(beat.health),
        version: beat.version,
        vitalsJson: JSON.stringify({
          uptimeSec: beat.uptimeSec,
          temperatureC: beat.temperatureC,
          rttMs: beat.network.rttMs,
          board: beat.board,
          uplinkKbps: vitals?.uplinkKbps,
          lossPercent: vitals?.lossPercent,
          audioOnly: vitals?.audioOnly,
        }),
      },
    });
    if (!stored) throw replayed();
    if (before.state !== beat.state)
      this.log.info(`Changed device state device=${id} from=${before.state} to=${beat.state}`);
    let open: ActionRow[] = [];
    if (before.has_open_actions) {
      open = await this.repo.openActions(id);
      await this.repo.setActionStatus(
        open.filter((a) => a.status === 'pending').map((a) => a.id),
        'sent',
        now,
      );
    }
    return {
      actions: open.map((a) => ({ id: a.id, kind: a.kind })),
      configEtag: this.desired.forSignedDevice(before).etag,
      serverTime: now,
    };
  }

  async requestAction(id: string, kind: ActionKind): Promise<ActionView> {
    await this.row(id);
    const now = this.clock.now().toISOString();
    const row: ActionRow = {
      id: randomUUID(),
      device_id: id,
      kind,
      status: 'pending',
      detail: null,
      created_at: now,
      updated_at: now,
    };
    await this.repo.insertAction(row);
    this.log.info(`Queued action device=${id} action=${kind} id=${row.id}`);
    return actionView(row);
  }

  async actions(id: string): Promise<ActionView[]> {
    await this.row(id);
    return (await this.repo.listActions(id)).map(actionView);
  }

  async reportAction(id: string, actionId: string, result: ActionResult): Promise<void> {
    const action = await this.repo.findAction(id, actionId);
    if (!action) throw notFound('action', actionId);
    const now = this.clock.now().toISOString();
    if (result.image !== undefined) {
      if (action.kind !== 'snapshot' && action.kind !== 'screenshot')
        throw new FleetApiError(400, 'E-BAD-REQUEST', `action ${actionId} is not a snapshot or screenshot`);
      await this.repo.saveSnapshot(
        {
          device_id: id,
          action_id: actionId,
          jpeg_base64: result.image.slice('data:image/jpeg;base64,'.length),
          taken_at: now,
        },
        action.kind === 'snapshot' ? 'snapshots' : 'screenshots',
      );
    }
    if (result.lines !== undefined) {
      if (action.kind !== 'logs')
        throw new FleetApiError(400, 'E-BAD-REQUEST', `action ${actionId} is not a logs action`);
      // Redacted once more here: what the fleet stores must hold no secret even from a box that
      // sent one (an older or a faulty version).
      await this.repo.saveLogs({
        device_id: id,
        action_id: actionId,
        lines_json: JSON.stringify(result.lines.map((line) => redactSecrets(line))),
        taken_at: now,
      });
    }
    await this.repo.setActionStatus([actionId], result.ok ? 'done' : 'failed', now, result.detail ?? null);
    this.log.info(`Finished action device=${id} action=${action.kind} id=${actionId} ok=${result.ok}`);
  }

  /** The last camera still (`snapshot`) or kiosk screen (`screenshot`) the box sent. */
  async snapshot(
    id: string,
    kind: 'snapshot' | 'screenshot' = 'snapshot',
  ): Promise<{ jpeg: Buffer; takenAt: string }> {
    await this.row(id);
    const row = await this.repo.findSnapshot(id, kind === 'snapshot' ? 'snapshots' : 'screenshots');
    if (!row)
      throw new FleetApiError(404, 'E-NOT-FOUND', `no ${kind} from device "${id}" yet; request one first`);
    return { jpeg: Buffer.from(row.jpeg_base64, 'base64'), takenAt: row.taken_at };
  }

  /** The latest log lines the box sent. */
  async logs(id: string): Promise<DeviceLogsView> {
    await this.row(id);
    const row = await this.repo.findLogs(id);
    if (!row)
      throw new FleetApiError(404, 'E-NOT-FOUND', `no log from device "${id}" yet; request one first`);
    return {
      deviceId: id,
      actionId: row.action_id,
      takenAt: row.taken_at,
      lines: JSON.parse(row.lines_json) as string[],
    };
  }

  private async row(id: string): Promise<DeviceRow> {
    const row = await this.repo.findDevice(id);
    if (!row) throw notFound('device', id);
    return row;
  }

  /** The dashboard's view of a stored row (online is judged now, by the offline window). */
  toView(row: DeviceRow): DeviceView {
    const nowMs = this.clock.now().getTime();
    const online =
      row.last_seen_at !== null &&
      nowMs - Date.parse(row.last_seen_at) <= this.options.offlineAfterSec * 1000;
    const health = row.health_json ? (JSON.parse(row.health_json) as Record<string, HealthItem>) : {};
    return {
      id: row.id,
      centreId: row.centre_id,
      displayName: row.display_name,
      online,
      state: row.state,
      inClass: online && (row.state === 'live' || row.state === 'reconnecting'),
      errorCode: row.error_code,
      health,
      problems: Object.entries(health)
        .filter(([, h]) => h.status !== 'ok' && h.status !== 'unchecked')
        .map(([key, h]) => `${key}: ${h.code ?? h.status}`),
      version: row.version,
      lastSeenAt: row.last_seen_at,
      enrolledAt: row.enrolled_at,
      vitals: row.vitals_json ? (JSON.parse(row.vitals_json) as DeviceView['vitals']) : null,
      channel: row.channel,
      update: row.update_json
        ? (updateReportSchema.safeParse(JSON.parse(row.update_json)).data ?? null)
        : null,
    };
  }
}

function actionView(row: ActionRow): ActionView {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    detail: row.detail,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
