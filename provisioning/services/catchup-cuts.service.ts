import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Cut, CutRequest } from '../../common/catchup-protocol.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { FleetApiError } from '../fleet-errors.js';
import { RecordingToolsPort, type CutInput } from '../ports/recording-tools.port.js';
import { RecordingsRepository, type RecordingFiles } from '../repositories/recordings.repository.js';
import { DesiredConfigService } from './desired-config.service.js';
import { FleetClock } from './fleet-options.js';

/** Only stretches the recording holds at least this much of are cut: less is not worth a replay. */
const MIN_OVERLAP_MS = 1000;

/**
 * Cuts the stretches boxes missed out of the teacher's recordings (issue 21). A cut is made once
 * (same room and stretch: same id, so a box's resumed download gets the same bytes), hashed, and served
 * with Range; the box checks length and SHA-256.
 */
@Injectable()
export class CatchupCutsService {
  private readonly log = createLogger(CatchupCutsService.name);
  /** Cuts under way, so two requests for one stretch make it once. */
  private readonly making = new Map<string, Promise<Cut>>();
  /** Conversions of a recording's `.mjr` under way, so two cuts of one recording convert it once. */
  private readonly converting = new Map<string, Promise<string>>();

  constructor(
    private readonly recordings: RecordingsRepository,
    private readonly tools: RecordingToolsPort,
    private readonly desired: DesiredConfigService,
    private readonly clock: FleetClock,
  ) {}

  async cut(deviceId: string, request: CutRequest): Promise<Cut> {
    await this.checkRoom(deviceId, request.room);
    const id = cutId(request);
    const made = await this.recordings.findCut(id);
    if (made) return view(deviceId, id, made);
    let work = this.making.get(id);
    if (!work) {
      work = this.make(deviceId, id, request).finally(() => this.making.delete(id));
      this.making.set(id, work);
    }
    return { ...(await work), path: cutPath(deviceId, id) };
  }

  /** The cut's bytes for a box of the room it was made for. */
  async open(
    deviceId: string,
    id: string,
  ): Promise<{ size: number; open(start: number, end: number): Readable }> {
    const meta = /^[a-f0-9]{32}$/.test(id) ? await this.recordings.findCut(id) : undefined;
    if (!meta) throw new FleetApiError(404, 'E-NOT-FOUND', `no cut "${id}"`);
    await this.checkRoom(deviceId, meta.room);
    return { size: meta.size, open: (start, end) => this.recordings.open(id, start, end) };
  }

  /** Drop recordings and cuts past their keeping time. */
  async sweep(): Promise<void> {
    const removed = await this.recordings.sweep(this.clock.now().getTime());
    if (removed > 0) this.log.info(`Removed old recordings and cuts files=${removed}`);
  }

  private async make(deviceId: string, id: string, request: CutRequest): Promise<Cut> {
    await this.sweep().catch((error: unknown) =>
      this.log.warn(`Can't remove old recordings: ${reason(error)}`),
    );
    const recording = await this.find(request);
    const scratch = await this.recordings.scratch(id);
    try {
      const inputs: { video?: CutInput; audio?: CutInput } = {};
      let startMs = Number.POSITIVE_INFINITY;
      for (const kind of ['video', 'audio'] as const) {
        const mjr = recording[kind];
        if (!mjr) continue;
        const header = await this.tools.header(mjr);
        const out = await this.converted(mjr, kind === 'video' ? 'webm' : 'opus', scratch);
        inputs[kind] = { file: out, startMs: header.firstFrameMs };
        startMs = Math.min(startMs, header.firstFrameMs);
      }
      const fromMs = Math.max(request.fromMs, startMs);
      const toMs = Math.min(request.toMs, recording.lastWrittenMs);
      if (toMs - fromMs < MIN_OVERLAP_MS)
        throw new FleetApiError(
          404,
          'E-CATCHUP-NO-RECORDING',
          `the recording of room ${request.room} does not hold ${iso(request.fromMs)}–${iso(request.toMs)}`,
        );
      const out = `${scratch}/cut.webm`;
      await this.tools.cut(inputs, fromMs, toMs, out);
      const meta = await this.recordings.saveCut(id, out, { room: request.room, fromMs, toMs });
      this.log.info(
        `Cut recording device=${deviceId} room=${request.room} base=${recording.base} seconds=${((toMs - fromMs) / 1000).toFixed(1)} bytes=${meta.size}`,
      );
      return view(deviceId, id, meta);
    } finally {
      await this.recordings.removeScratch(scratch);
    }
  }

  /**
   * The playable file of `mjr`, converted once per recording (and size: a recording still growing is
   * converted again) and kept beside the cuts until the sweep: each box of a room missing its own
   * stretches would otherwise convert the whole class again. Made in the cut's scratch folder and renamed
   * into place whole; a second cut asking meanwhile waits for the same conversion.
   */
  private async converted(mjr: string, ext: 'webm' | 'opus', scratch: string): Promise<string> {
    const file = this.recordings.convertedFile(mjr, await this.recordings.sizeOf(mjr), ext);
    let work = this.converting.get(file);
    if (!work) {
      work = (async () => {
        if (await this.recordings.exists(file)) return file;
        // janus-pp-rec picks the container from the extension: the scratch name keeps it.
        const made = `${scratch}/converted.${ext}`;
        await this.tools.convert(mjr, made);
        await this.recordings.publish(made, file);
        this.log.info(`Converted recording file=${mjr}`);
        return file;
      })().finally(() => this.converting.delete(file));
      this.converting.set(file, work);
    }
    return work;
  }

  /** The teacher's recording of the room that holds most of the stretch. */
  private async find(request: CutRequest): Promise<RecordingFiles> {
    const all = await this.recordings.list(request.room);
    let best: { recording: RecordingFiles; overlap: number } | undefined;
    for (const recording of all) {
      const start = startOf(recording.base);
      if (start === undefined) continue;
      const overlap = Math.min(request.toMs, recording.lastWrittenMs) - Math.max(request.fromMs, start);
      if (overlap > (best?.overlap ?? 0)) best = { recording, overlap };
    }
    if (!best || best.overlap < MIN_OVERLAP_MS)
      throw new FleetApiError(
        404,
        'E-CATCHUP-NO-RECORDING',
        `no recording of room ${request.room} holds ${iso(request.fromMs)}–${iso(request.toMs)} (${all.length} recordings of the room kept)`,
      );
    return best.recording;
  }

  /** A box may only have cut its own centre's room. */
  private async checkRoom(deviceId: string, room: number): Promise<void> {
    const { config } = await this.desired.forDevice(deviceId);
    if (config.janus?.room !== room)
      throw new FleetApiError(403, 'E-FORBIDDEN', `room ${room} is not the room of box "${deviceId}"`);
  }
}

/** `teacher-<room>-<startMs>`: the start the teacher page put in the name (the header's is per stream). */
function startOf(base: string): number | undefined {
  const match = /^teacher-\d+-(\d{13})$/.exec(base);
  return match ? Number(match[1]) : undefined;
}

function cutId(request: CutRequest): string {
  return createHash('sha256')
    .update(`${request.room}/${request.fromMs}/${request.toMs}`)
    .digest('hex')
    .slice(0, 32);
}

function cutPath(deviceId: string, id: string): string {
  return `/api/v1/devices/${encodeURIComponent(deviceId)}/catchup/cuts/${id}`;
}

function view(
  deviceId: string,
  id: string,
  meta: { fromMs: number; toMs: number; size: number; sha256: string },
): Cut {
  return {
    cutId: id,
    path: cutPath(deviceId, id),
    size: meta.size,
    sha256: meta.sha256,
    fromMs: meta.fromMs,
    toMs: meta.toMs,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
