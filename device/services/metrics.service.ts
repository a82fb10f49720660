import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { SESSION_STATES, type SessionState } from '../domain/class-session.machine.js';

/** Prometheus metrics of the box, on its own registry (no global state). */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly state = new Gauge({
    name: 'classbox_session_state',
    help: 'The class session state (1 for the current state).',
    labelNames: ['state'],
    registers: [this.registry],
  });
  readonly presses = new Counter({
    name: 'classbox_button_presses_total',
    help: 'Button presses by button and kind (short, hold).',
    labelNames: ['button', 'kind'],
    registers: [this.registry],
  });
  readonly joins = new Counter({
    name: 'classbox_joins_total',
    help: 'Attempts to join the class room, by result (ok or an error code).',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly joinSeconds = new Histogram({
    name: 'classbox_join_seconds',
    help: 'Time from the press to live.',
    buckets: [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 15],
    registers: [this.registry],
  });
  readonly reconnects = new Counter({
    name: 'classbox_reconnects_total',
    help: 'Times a live class lost its connection and started to reconnect.',
    registers: [this.registry],
  });
  readonly kioskRestarts = new Counter({
    name: 'classbox_kiosk_restarts_total',
    help: 'Times the kiosk browser was relaunched.',
    registers: [this.registry],
  });
  readonly remoteFeeds = new Gauge({
    name: 'classbox_remote_feeds',
    help: 'Other publishers the box shows.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'classbox_' });
    this.setState('idle');
  }

  setState(current: SessionState): void {
    for (const s of SESSION_STATES) this.state.set({ state: s }, s === current ? 1 : 0);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
