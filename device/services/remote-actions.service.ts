import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import {
  MAX_LOG_LINE,
  MAX_LOG_LINES,
  type ActionResult,
  type PendingAction,
} from '../../common/fleet-protocol.js';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { redactSecrets } from '../../common/redact.js';
import { secretValues } from '../config/device-config.schema.js';
import { isBetweenClasses } from '../domain/class-session.machine.js';
import { FleetError, FleetPort } from '../ports/fleet.port.js';
import { HostPort } from '../ports/host.port.js';
import { KioskPagePort } from '../ports/kiosk-page.port.js';
import { LogSourcePort } from '../ports/log-source.port.js';
import { ClassSessionService } from './class-session.service.js';
import { ConfigService } from './config.service.js';
import { FleetEnrolmentService } from './fleet-enrolment.service.js';
import { KioskService } from './kiosk.service.js';
import { StatusService } from './status.service.js';

/** A log report stays well under the fleet server's 1 MiB body limit, escaping included. */
const LOG_REPORT_CHARS = 400_000;

/** The newest lines whose JSON encoding fits in `budget` characters, oldest first. */
function newestWithin(lines: string[], budget: number): string[] {
  let used = 0;
  let first = lines.length;
  while (first > 0) {
    used += JSON.stringify(lines[first - 1]).length + 1;
    if (used > budget) break;
    first--;
  }
  return lines.slice(first);
}

/**
 * IT's remote actions from the heartbeat answers, each carried out once and its result reported:
 * restart the kiosk, a camera snapshot, a screenshot, the latest logs, a reboot (only between classes).
 */
@Injectable()
export class RemoteActionsService implements OnApplicationBootstrap {
  private readonly log = createLogger(RemoteActionsService.name);
  private readonly handled = new Set<string>();
  private rebootWanted: PendingAction | undefined;

  constructor(
    private readonly config: ConfigService,
    private readonly session: ClassSessionService,
    private readonly status: StatusService,
    private readonly kiosk: KioskService,
    private readonly page: KioskPagePort,
    private readonly host: HostPort,
    private readonly logs: LogSourcePort,
    private readonly fleet: FleetPort,
    private readonly enrolment: FleetEnrolmentService,
  ) {}

  onApplicationBootstrap(): void {
    this.session.changed.on(RemoteActionsService.name, ({ state }) => {
      if (isBetweenClasses(state) && this.rebootWanted) void this.rebootNow(this.rebootWanted);
    });
  }

  /** Carry out one action the server sent; one it sent before (and got a report of) is skipped. */
  async run(action: PendingAction): Promise<void> {
    if (this.handled.has(action.id)) return;
    this.handled.add(action.id);
    this.log.info(`Running remote action action=${action.kind} id=${action.id}`);
    switch (action.kind) {
      case 'restart-kiosk':
        return this.report(action, () =>
          this.kiosk.restart('remote action from IT').then(() => ({ ok: true })),
        );
      case 'snapshot':
        return this.report(action, async () => {
          const jpeg = await this.page.requestSnapshot();
          return { ok: true, image: `data:image/jpeg;base64,${jpeg.toString('base64')}` };
        });
      case 'screenshot':
        return this.report(action, async () => {
          const jpeg = await this.kiosk.screenshot();
          return { ok: true, image: `data:image/jpeg;base64,${jpeg.toString('base64')}` };
        });
      case 'logs':
        return this.report(action, () => this.recentLogs());
      case 'reboot-when-idle':
        if (!isBetweenClasses(this.session.state.state)) {
          this.rebootWanted = action;
          this.log.info(`Deferred reboot until the class ends id=${action.id}`);
          return;
        }
        return this.rebootNow(action);
      default:
        // A newer fleet server may know actions this version doesn't: say so rather than ignore it.
        return this.report(action, () =>
          Promise.resolve({
            ok: false,
            detail: `this box (version ${this.status.status().version}) can't do "${action.kind}"`,
          }),
        );
    }
  }

  private async recentLogs(): Promise<ActionResult> {
    // Secrets go here, before the lines leave the box (the fleet server redacts once more).
    const key = this.enrolment.privateKey();
    const known = [...secretValues(this.config.current), ...(key ? [key] : [])];
    const lines = (await this.logs.recentLines(MAX_LOG_LINES)).map((line) =>
      redactSecrets(line, known).slice(0, MAX_LOG_LINE),
    );
    return { ok: true, lines: newestWithin(lines, LOG_REPORT_CHARS) };
  }

  private async rebootNow(action: PendingAction): Promise<void> {
    this.rebootWanted = undefined;
    // Reported first: after the reboot nobody is left to say it happened.
    await this.report(action, () => Promise.resolve({ ok: true, detail: 'rebooting' }));
    await this.host.reboot().catch((error: unknown) => this.log.error(`Can't reboot: ${reason(error)}`));
  }

  private async report(action: PendingAction, work: () => Promise<ActionResult>): Promise<void> {
    let result: ActionResult;
    try {
      result = await work();
    } catch (error) {
      this.log.warn(`Can't carry out remote action action=${action.kind} id=${action.id}: ${reason(error)}`);
      result = { ok: false, detail: reason(error).slice(0, 500) };
    }
    const session = this.enrolment.signingSession();
    try {
      if (!session) throw new FleetError('E-FLEET-STATE', 'the box is not enrolled');
      await this.fleet.reportAction(session, action.id, result);
    } catch (error) {
      // Not reported: the server resends it, and the next start may try again.
      this.handled.delete(action.id);
      this.log.warn(`Can't report remote action id=${action.id}: ${reason(error)}`);
    }
  }
}
