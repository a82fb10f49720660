import { Injectable } from '@nestjs/common';
import { recentLogLines } from '../../common/logger.js';
import { LogSourcePort } from '../ports/log-source.port.js';

/**
 * The lines the daemon's logger keeps in memory as it writes them to stdout: the same on a box and
 * in sim mode. Chosen over reading journald (`journalctl -u classbox`), which would add the lines of
 * earlier runs but needs the journal's group and a child process, and has nothing in sim mode or CI.
 */
@Injectable()
export class MemoryLogSource extends LogSourcePort {
  recentLines(max: number): Promise<string[]> {
    return Promise.resolve(recentLogLines(max));
  }
}
