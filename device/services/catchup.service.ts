import {
  Injectable,
  Optional,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { CatchupReport } from '../../common/catchup-protocol.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { Signal } from '../../common/signal.js';
import { isBetweenClasses, type SessionState } from '../domain/class-session.machine.js';
import { applyMiss, type ClassMisses, type MissEvent } from '../domain/missed-intervals.js';
import { addWatched } from '../domain/replay-watched.js';
import {
  CatchupError,
  CatchupFleetPort,
  CatchupStorePort,
  EMPTY_RECORD,
  type CachedReplay,
  type CatchupRecord,
} from '../ports/catchup.port.js';
import { ClockPort, type TimerHandle } from '../ports/clock.port.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { FleetEnrolmentService } from './fleet-enrolment.service.js';
import { FleetSyncService } from './fleet-sync.service.js';
import { NextClassService } from './next-class.service.js';

/** After a failed fetch that may pass (a broken link), the next try waits this long. */
const RETRY_MS = 15_000;
/**
 * The page reports decoded frames every 2 s: no new frame for this long while live means the teacher's
 * picture stopped arriving. A cut link is noticed by the session only seconds later (ICE, the WebSocket),
 * so the stretch is dated from the last frame seen, not from the state change.
 */
const STALL_MS = 5000;

/** Answers for a stretch that no retry can change: it is not asked for again. */
const GIVEN_UP: ReadonlySet<string> = new Set([
  'E-CATCHUP-NO-RECORDING',
  'E-CATCHUP-RECORDING-BAD',
  'E-CATCHUP-REFUSED',
]);

/** What the idle screen offers: the fetched stretches of the latest class, in order. */
export interface ReplayOffer {
  readonly classId: string;
  readonly missedMs: number;
  readonly replays: readonly CachedReplay[];
}

/**
 * Lesson catch-up on the box (issue 21): records the stretches of each class the box did not receive
 * the teacher in (from the session's states), keeps them across restarts, reports them with the
 * heartbeats, and after the class — never during one — fetches the fleet's cut of each stretch into a
 * bounded cache, for the idle screen to offer as a replay.
 */
@Injectable()
export class CatchupService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(CatchupService.name);
  private record: CatchupRecord = EMPTY_RECORD;
  private loaded: Promise<void> = Promise.resolve();
  private saving: Promise<void> = Promise.resolve();
  private previous: SessionState = 'idle';
  private fetching: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private retryTimer: TimerHandle | undefined;
  private lastError: { code: string; detail: string } | undefined;
  private stopping = false;
  /** The decoded-frame count the page last reported, and when it last grew (this class). */
  private frames = 0;
  private lastFrameAt: number | undefined;
  private stalled = false;
  /** The replay offer changed (a stretch fetched, a replay watched, the cache trimmed). */
  readonly offerChanged = new Signal<ReplayOffer | undefined>('catchup.offerChanged');

  constructor(
    private readonly config: ConfigService,
    private readonly session: ClassSessionService,
    private readonly clock: ClockPort,
    private readonly store: CatchupStorePort,
    private readonly fleet: CatchupFleetPort,
    private readonly enrolment: FleetEnrolmentService,
    private readonly sync: FleetSyncService,
    private readonly page: KioskPagePort,
    @Optional() private readonly nextClass?: NextClassService,
  ) {}

  onApplicationBootstrap(): void {
    this.loaded = this.load();
    this.sync.reportCatchupWith(() => this.report());
    this.session.changed.on(CatchupService.name, ({ state }) => this.onState(state));
    this.page.stats.on(CatchupService.name, ({ framesDecoded }) => this.onFrames(framesDecoded));
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.clock.clearTimeout(this.retryTimer);
    this.abort?.abort();
    await this.fetching;
    // Stopped in a class: the class goes on without the box, so the rest of it is missed too; the next
    // start closes it (load) at the time it comes back.
    await this.saving;
  }

  /** For the heartbeat: the classes with missed stretches, and how much of each was replayed. */
  report(): CatchupReport {
    const { log, caughtUpMs } = this.record;
    const classes = [...log.ended, ...(log.current ? [log.current] : [])].slice(-10).map((c) => ({
      classId: c.classId,
      room: c.room,
      joinedAtMs: c.joinedAtMs,
      endedAtMs: c.endedAtMs,
      missed: c.missed.map((m) => ({ fromMs: m.fromMs, toMs: m.toMs, reason: m.reason })),
      caughtUpMs: Math.round(caughtUpMs[c.classId] ?? 0),
    }));
    return { classes, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  /** When the stretch the box is missing now began (undefined: it receives the teacher, or is not in class). */
  missingSince(): number | undefined {
    return this.record.log.current?.openSinceMs;
  }

  /** The newest class with fetched stretches not yet watched through. */
  offer(): ReplayOffer | undefined {
    for (const c of [...this.record.log.ended].reverse()) {
      const replays = this.record.replays
        .filter((r) => r.classId === c.classId)
        .sort((a, b) => a.fromMs - b.fromMs);
      if (replays.length === 0) continue;
      const total = c.missed.reduce((sum, m) => sum + (m.toMs - m.fromMs), 0);
      if ((this.record.caughtUpMs[c.classId] ?? 0) >= total) continue;
      return { classId: c.classId, missedMs: total, replays };
    }
    return undefined;
  }

  /** A cached replay's bytes, for the page to play (undefined: not in the cache). */
  async openVideo(name: string): Promise<Awaited<ReturnType<CatchupStorePort['open']>> | undefined> {
    if (!this.record.replays.some((r) => r.name === name)) return undefined;
    return this.store.open(name);
  }

  /**
   * The screen showed the cached part `name` of a class's replay up to `positionMs`: what goes beyond
   * what was already counted for it is caught up (never more than the part's own length).
   */
  markWatched(name: string, positionMs: number): void {
    const replay = this.record.replays.find((r) => r.name === name);
    if (!replay) return;
    const counts = addWatched(this.record, replay.classId, name, positionMs, replay.toMs - replay.fromMs);
    if (counts === this.record) return;
    this.update({ ...this.record, ...counts });
    this.offerChanged.emit(this.offer());
  }

  /** Wait for the record to be read (tests, and the heartbeat's first round). */
  ready(): Promise<void> {
    return this.loaded;
  }

  /** Run the fetch now if the box is between classes (tests; the service calls it after each class). */
  fetchMissed(): Promise<void> {
    this.clock.clearTimeout(this.retryTimer);
    if (!this.fetching) {
      this.fetching = this.fetchAll().finally(() => {
        this.fetching = undefined;
      });
    }
    return this.fetching;
  }

  private async load(): Promise<void> {
    try {
      const saved = await this.store.read();
      if (saved) this.record = saved;
    } catch (error) {
      this.fail(error, 'read the catch-up record');
    }
    if (this.record.log.current) {
      // The daemon stopped during a class (a crash, a power cut): the class is over for this record.
      this.apply({ type: 'left', atMs: Math.round(this.clock.now()) });
    }
    const keep = this.record.replays.map((r) => r.name);
    await this.store.removeStray(keep).catch((error: unknown) => this.fail(error, 'clean the cache'));
    if (isBetweenClasses(this.session.state.state)) void this.fetchMissed();
  }

  private onState(state: SessionState): void {
    const was = this.previous;
    this.previous = state;
    if (was === state) return;
    // Whole ms: the fleet's schema takes integers (the clock may give fractions).
    const now = Math.round(this.clock.now());
    const inClass = (s: SessionState): boolean => s === 'live' || s === 'reconnecting';
    if (state === 'joining') {
      // The next class always wins: the link is the class's.
      this.abort?.abort();
    }
    if (state === 'live' && !inClass(was)) {
      const room = this.session.currentRoom;
      if (room === undefined) return;
      this.frames = 0;
      this.lastFrameAt = undefined;
      this.stalled = false;
      this.apply({ type: 'joined', atMs: now, room, scheduledStartMs: this.scheduledStart(now) });
    } else if (state === 'reconnecting' && was === 'live') {
      // Missed since the last frame seen; the stretch ends when frames come again (onFrames).
      this.stalled = true;
      this.apply({ type: 'lost', atMs: this.lastFrameAt ?? now, reason: 'reconnecting' });
    } else if (inClass(was) && !inClass(state)) {
      this.apply({ type: 'left', atMs: now });
    }
    if (isBetweenClasses(state) && !isBetweenClasses(was)) void this.fetchMissed();
  }

  /** The page's decoded-frame count: a stall opens a missed stretch, frames again close it. */
  private onFrames(framesDecoded: number): void {
    const state = this.session.state.state;
    if (state !== 'live' && state !== 'reconnecting') return;
    const now = Math.round(this.clock.now());
    // A rejoin makes a new peer connection, whose count starts again from 0.
    const progressed = framesDecoded > this.frames || (framesDecoded < this.frames && framesDecoded > 0);
    this.frames = framesDecoded;
    if (progressed) {
      this.lastFrameAt = now;
      if (this.stalled && state === 'live') {
        this.stalled = false;
        this.apply({ type: 'restored', atMs: now });
      }
      return;
    }
    // Only once the teacher's picture was seen in this class: a teacher with no camera is not a stall.
    if (!this.stalled && this.lastFrameAt !== undefined && now - this.lastFrameAt >= STALL_MS) {
      this.stalled = true;
      this.apply({ type: 'lost', atMs: this.lastFrameAt, reason: 'stalled' });
    }
  }

  /** The timetable's start of the class under way, if one is (a late join misses its start). */
  private scheduledStart(now: number): number | undefined {
    const window = this.nextClass?.window();
    if (!window) return undefined;
    const start = Date.parse(window.startsAt);
    return start <= now && now < Date.parse(window.endsAt) ? start : undefined;
  }

  private apply(event: MissEvent): void {
    const log = applyMiss(this.record.log, event);
    if (log === this.record.log) return;
    const forgotten = this.record.log.ended.filter((c) => !log.ended.includes(c)).map((c) => c.classId);
    this.update({ ...this.record, log });
    if (forgotten.length > 0) void this.forget(forgotten);
    this.log.info(`Recorded ${event.type} at=${new Date(event.atMs).toISOString()}`);
  }

  private update(record: CatchupRecord): void {
    this.record = record;
    const snapshot = record;
    this.saving = this.saving
      .then(() => this.store.save(snapshot))
      .catch((error: unknown) => this.fail(error, 'save the catch-up record'));
  }

  /** Classes dropped from the log take their videos with them. */
  private async forget(classIds: readonly string[]): Promise<void> {
    const gone = this.record.replays.filter((r) => classIds.includes(r.classId));
    if (gone.length === 0) return;
    const watchedMs = { ...this.record.watchedMs };
    for (const r of gone) delete watchedMs[r.name];
    this.update({ ...this.record, replays: this.record.replays.filter((r) => !gone.includes(r)), watchedMs });
    for (const r of gone) await this.store.remove(r.name).catch(() => undefined);
  }

  private async fetchAll(): Promise<void> {
    await this.loaded;
    const settings = this.config.current.catchup;
    if (!settings.enabled) return;
    // Newest class first: that is the one the tutor wants to replay now.
    for (const c of [...this.record.log.ended].reverse()) {
      for (const m of c.missed) {
        if (this.stopping || !isBetweenClasses(this.session.state.state)) return;
        const key = `${c.classId}/${m.fromMs}`;
        if (this.record.unavailable[key]) continue;
        if (this.record.replays.some((r) => r.classId === c.classId && r.fromMs === m.fromMs)) continue;
        try {
          await this.fetchOne(c, m.fromMs, m.toMs);
          // A stretch given up stays the last error (the heartbeat says it once the next round); a
          // passing one is over once a fetch works.
          if (this.lastError && !GIVEN_UP.has(this.lastError.code)) this.lastError = undefined;
        } catch (error) {
          const code = error instanceof CatchupError ? error.code : 'E-CATCHUP-DOWNLOAD';
          this.lastError = { code, detail: reason(error).slice(0, 500) };
          this.log.warn(
            `Can't fetch missed stretch class=${c.classId} from=${m.fromMs}: ${code} ${reason(error)}`,
          );
          if (GIVEN_UP.has(code)) {
            // The fleet has nothing to give for it, or refuses the request as it is: asking again
            // would not help. Said once (log, heartbeat), and the class's other stretches go on.
            this.update({ ...this.record, unavailable: { ...this.record.unavailable, [key]: code } });
            continue;
          }
          // A full card waits for the next class's end; a broken link or a bad file is tried again soon.
          if (code !== 'E-CATCHUP-SPACE' && !this.stopping && isBetweenClasses(this.session.state.state)) {
            this.retryTimer = this.clock.setTimeout(() => void this.fetchMissed(), RETRY_MS);
          }
          return;
        }
      }
    }
  }

  private async fetchOne(c: ClassMisses, fromMs: number, toMs: number): Promise<void> {
    const session = this.enrolment.signingSession();
    if (!session) throw new CatchupError('E-CATCHUP-DOWNLOAD', 'the box is not enrolled yet');
    const settings = this.config.current.catchup;
    const cut = await this.fleet.requestCut(session, { room: c.room, fromMs, toMs });
    await this.makeRoom(cut.size, settings.cacheMB * 1024 * 1024, c.classId);
    const free = await this.store.freeBytes();
    const margin = settings.freeMarginMB * 1024 * 1024;
    if (free - cut.size < margin) {
      throw new CatchupError(
        'E-CATCHUP-SPACE',
        `the video needs ${mb(cut.size)} MB and the card has ${mb(free)} MB free, of which ${mb(margin)} MB are kept for the box`,
      );
    }
    this.abort = new AbortController();
    const part = this.store.partFile(cut.cutId);
    this.log.info(`Fetching missed stretch class=${c.classId} cut=${cut.cutId} bytes=${cut.size}`);
    try {
      await this.fleet.download(session, cut, part, {
        bytesPerSec: (settings.maxKbps * 1000) / 8,
        signal: this.abort.signal,
      });
    } catch (error) {
      // A full card keeps nothing half-written: the part goes (a link cut keeps it, to resume from).
      if (error instanceof CatchupError && error.code !== 'E-CATCHUP-DOWNLOAD')
        await this.store.remove(`${cut.cutId}.part`).catch(() => undefined);
      throw error;
    } finally {
      this.abort = undefined;
    }
    const name = await this.store.commit(cut.cutId, { size: cut.size, sha256: cut.sha256 });
    const replay: CachedReplay = {
      classId: c.classId,
      fromMs: cut.fromMs,
      toMs: cut.toMs,
      name,
      size: cut.size,
    };
    // Keyed by the stretch asked for, so a cut the recording shortened is not fetched again.
    this.update({ ...this.record, replays: [...this.record.replays, { ...replay, fromMs }] });
    this.log.info(`Fetched missed stretch class=${c.classId} cut=${cut.cutId} bytes=${cut.size}`);
    this.offerChanged.emit(this.offer());
  }

  /** Drop the oldest classes' videos (never `keepClass`'s) until `bytes` more fit in the cache. */
  private async makeRoom(bytes: number, cacheBytes: number, keepClass: string): Promise<void> {
    if (bytes > cacheBytes)
      throw new CatchupError(
        'E-CATCHUP-SPACE',
        `the video (${mb(bytes)} MB) is larger than the whole cache (${mb(cacheBytes)} MB)`,
      );
    const order = this.record.log.ended.map((c) => c.classId);
    const replays = [...this.record.replays].sort(
      (a, b) => order.indexOf(a.classId) - order.indexOf(b.classId),
    );
    let used = replays.reduce((sum, r) => sum + r.size, 0);
    const dropped: CachedReplay[] = [];
    for (const r of replays) {
      if (used + bytes <= cacheBytes) break;
      if (r.classId === keepClass) continue;
      dropped.push(r);
      used -= r.size;
    }
    if (used + bytes > cacheBytes)
      throw new CatchupError(
        'E-CATCHUP-SPACE',
        `the cache (${mb(cacheBytes)} MB) is full with this class's videos`,
      );
    if (dropped.length === 0) return;
    this.update({ ...this.record, replays: this.record.replays.filter((r) => !dropped.includes(r)) });
    for (const r of dropped) await this.store.remove(r.name);
    this.log.info(`Dropped old catch-up videos count=${dropped.length} to make room`);
  }

  private fail(error: unknown, what: string): void {
    const code = error instanceof CatchupError ? error.code : 'E-CATCHUP-STATE';
    this.lastError = { code, detail: `can't ${what}: ${reason(error)}`.slice(0, 500) };
    this.log.warn(`Can't ${what}: ${code} ${reason(error)}`);
  }
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}
