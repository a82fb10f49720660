import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { minuteOf, VitalsAccumulator, type VitalsBeat } from '../domain/vitals-buckets.js';
import { VitalsHistoryWriter } from '../repositories/vitals-history.repository.js';
import { FleetClock, FleetOptions } from './fleet-options.js';

/** How often the minutes that have ended are written. */
const FLUSH_EVERY_MS = 10_000;
/** Rows per statement or transaction: a flush never holds SQLite's connection (or the loop) for long. */
const MAX_FLUSH_ROWS = 500;

/**
 * The vitals history's per-minute aggregates, kept in memory until their minute has ended (issue 17):
 * a box's minute is then one upsert, whatever the heartbeats it held, written beside the heartbeats
 * instead of on their path. The upsert adds (sums, counts, maxima), so a minute written in parts —
 * by several replicas, or before a read — still adds up. Written when the minute has ended (checked
 * every 10 s), before the history is read or rolled up, and on shutdown; a crash loses at most the
 * last ~70 s of history, never a heartbeat (a box's state is committed before its answer).
 */
@Injectable()
export class VitalsHistoryBuffer implements OnModuleInit, OnApplicationShutdown {
  private readonly log = createLogger(VitalsHistoryBuffer.name);
  private readonly pending = new VitalsAccumulator();
  private timer: NodeJS.Timeout | undefined;
  /** Flushes run one after another, so a minute's parts reach the database in order. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly writer: VitalsHistoryWriter,
    private readonly clock: FleetClock,
    private readonly options: FleetOptions,
  ) {}

  onModuleInit(): void {
    if (!this.options.history) return;
    this.timer = setInterval(() => void this.flush('ended'), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Heartbeats that were stored; nothing when the history is off. */
  add(beats: readonly VitalsBeat[]): void {
    if (!this.options.history) return;
    for (const beat of beats) this.pending.add(beat);
  }

  /**
   * Writes what is held: every minute (before a read, on shutdown) or only those that have ended.
   * A write that fails costs its minutes, logged, never thrown: the heartbeats are already stored.
   */
  flush(which: 'all' | 'ended' = 'all'): Promise<void> {
    const run = async (): Promise<void> => {
      const buckets = this.pending.take(
        which === 'ended' ? minuteOf(this.clock.now().toISOString()) : undefined,
      );
      for (let i = 0; i < buckets.length; i += MAX_FLUSH_ROWS) {
        const part = buckets.slice(i, i + MAX_FLUSH_ROWS);
        await this.writer
          .addMinutes(part)
          .catch((error: unknown) =>
            this.log.error(`Can't add ${part.length} minutes to the vitals history: ${reason(error)}`),
          );
      }
    };
    this.flushing = this.flushing.then(run);
    return this.flushing;
  }
}
