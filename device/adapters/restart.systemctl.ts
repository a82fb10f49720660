import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createLogger } from '../../common/logger.js';
import { RestartPort, UpdateError } from '../ports/update.port.js';

const run = promisify(execFile);

/**
 * `systemctl restart --no-block <unit>`: systemd stops this daemon (SIGTERM, a clean
 * shutdown) and starts `releases/current/bin/classbox` again, now the new version.
 */
export class SystemctlRestart extends RestartPort {
  private readonly log = createLogger(SystemctlRestart.name);

  constructor(private readonly unit: string) {
    super();
  }

  async restart(why: string): Promise<void> {
    this.log.info(`Restarting unit=${this.unit}: ${why}`);
    try {
      await run('systemctl', ['restart', '--no-block', this.unit], { timeout: 10_000 });
    } catch (error) {
      throw new UpdateError('E-UPDATE-RESTART', `can't restart ${this.unit}`, { cause: error });
    }
  }
}
