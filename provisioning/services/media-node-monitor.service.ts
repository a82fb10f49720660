import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { ClassPlacementService } from './class-placement.service.js';

/**
 * How often every media node is checked (the next round starts this long after the last ended). A
 * killed Janus refuses at once: with `NODE_DOWN_AFTER` = 2 its classes move ~1–2 s after it died; a node
 * that vanished from the network costs two 1.5 s timeouts, ~4–5 s. Either fits the 10 s a class may be
 * away (issue 19), with the box's own retries after it.
 */
export const NODE_CHECK_EVERY_MS = 1000;

/** Runs the placement rounds of `fleet serve` (each replica its own; their writes are conditional). */
@Injectable()
export class MediaNodeMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = createLogger(MediaNodeMonitor.name);
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly placement: ClassPlacementService) {}

  onApplicationBootstrap(): void {
    this.schedule(0);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.round;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      // The next round is timed from this one's end: a slow node never stacks rounds up.
      this.round = this.placement
        .checkNodes()
        .catch((error: unknown) => this.log.error(`Can't check media nodes: ${reason(error)}`))
        .finally(() => {
          this.round = undefined;
          this.schedule(NODE_CHECK_EVERY_MS);
        });
    }, delayMs);
  }
}
