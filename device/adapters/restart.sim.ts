import { createLogger } from '../../common/logger.js';
import { RestartPort } from '../ports/update.port.js';

/** `sim` mode has no service manager: the restart is logged and left to whoever runs the daemon. */
export class SimRestart extends RestartPort {
  private readonly log = createLogger(SimRestart.name);

  restart(why: string): Promise<void> {
    this.log.warn(`Can't restart in sim mode; restart the daemon to run the new version: ${why}`);
    return Promise.resolve();
  }
}
