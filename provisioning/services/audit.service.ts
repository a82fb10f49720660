import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { FleetRepository, type AuditRow } from '../repositories/fleet.repository.js';
import { FleetClock } from './fleet-options.js';
import type { AuditView } from '../protocol/admin-views.schema.js';
export type { AuditView };

export interface AuditEntry {
  actor: string;
  action: string;
  target: string;
  outcome: string;
  client?: string;
}

/** The audit log: every admin action, API and CLI, with who did it. */
@Injectable()
export class AuditService {
  private readonly log = createLogger(AuditService.name);

  constructor(
    private readonly repo: FleetRepository,
    private readonly clock: FleetClock,
  ) {}

  /** Record an action; a failure to record is logged (with the action) rather than thrown. */
  async record(entry: AuditEntry): Promise<void> {
    const at = this.clock.now().toISOString();
    try {
      await this.repo.insertAudit({
        id: randomUUID(),
        at,
        actor: entry.actor.slice(0, 100),
        action: entry.action.slice(0, 200),
        target: entry.target.slice(0, 300),
        outcome: entry.outcome.slice(0, 64),
        client: entry.client ?? null,
      });
    } catch (error) {
      this.log.error(
        `Can't record admin action actor=${entry.actor} action="${entry.action}" target=${entry.target}: ${reason(error)}`,
      );
    }
  }

  async list(limit = 100): Promise<AuditView[]> {
    return (await this.repo.listAudit(limit)).map(toView);
  }
}

function toView(row: AuditRow): AuditView {
  return {
    at: row.at,
    actor: row.actor,
    action: row.action,
    target: row.target,
    outcome: row.outcome,
    ...(row.client !== null ? { client: row.client } : {}),
  };
}
