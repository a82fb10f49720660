import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { ClassPlacementService } from './class-placement.service.js';
import { LectureForwardingService } from './lecture-forwarding.service.js';

/**
 * How often every media node is checked (the next round starts this long after the last ended). A
 * killed Janus refuses at once: with `NODE_DOWN_AFTER` = 2 its classes move ~1–2 s after it died; a node
 * that vanished from the network costs two 1.5 s timeouts, ~4–5 s. Either fits the 10 s a class may be
 * away (issue 19), with the box's own retries after it.
 */
export const NODE_CHECK_EVERY_MS = 1000;

/**
 * Runs the placement rounds of `fleet serve` (each replica its own; their writes are conditional), and
 * beside them the forwarding rounds of lectures spread over nodes: on their own timer, so that the
 * forwards' requests never slow down noticing a dead node.
 */
@Injectable()
export class MediaNodeMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(MediaNodeMonitor.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly rounds = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly placement: ClassPlacementService,
    private readonly forwarding: LectureForwardingService,
  ) {}

  onApplicationBootstrap(): void {
    this.schedule('check media nodes', () => this.placement.checkNodes(), 0);
    this.schedule('forward lectures', () => this.forwarding.round(), NODE_CHECK_EVERY_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    await Promise.all(this.rounds.values());
  }

  private schedule(what: string, round: () => Promise<void>, delayMs: number): void {
    if (this.stopped) return;
    this.timers.set(
      what,
      setTimeout(() => {
        // The next round is timed from this one's end: a slow node never stacks rounds up.
        this.rounds.set(
          what,
          round()
            .catch((error: unknown) => this.log.error(`Can't ${what}: ${reason(error)}`))
            .finally(() => {
              this.rounds.delete(what);
              this.schedule(what, round, NODE_CHECK_EVERY_MS);
            }),
        );
      }, delayMs),
    );
  }
}
