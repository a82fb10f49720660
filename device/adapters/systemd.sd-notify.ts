import { Injectable } from '@nestjs/common';
import unixDgram from 'unix-dgram';
import { reason } from '../../common/errors.js';
import { createLogger } from '../../common/logger.js';
import { SystemdPort } from '../ports/systemd.port.js';

/**
 * sd_notify(3) spoken directly: one datagram of `KEY=value` lines to $NOTIFY_SOCKET.
 * Without NOTIFY_SOCKET (not under systemd) every call is a no-op.
 */
@Injectable()
export class SdNotifySystemd extends SystemdPort {
  private readonly log = createLogger(SdNotifySystemd.name);
  private readonly path: string | undefined;

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    super();
    const path = env.NOTIFY_SOCKET;
    // Abstract sockets are written "@name" by systemd and addressed with a leading NUL.
    this.path = path ? (path.startsWith('@') ? `\0${path.slice(1)}` : path) : undefined;
  }

  async notify(fields: Record<string, string>): Promise<void> {
    if (!this.path) return;
    const text = Object.entries(fields)
      .map(([key, value]) => `${key}=${value.replace(/\n/g, ' ')}`)
      .join('\n');
    // A socket per message: an open one would keep the process alive after shutdown, and a
    // message every few seconds costs nothing.
    const socket = unixDgram.createSocket('unix_dgram');
    try {
      const buf = Buffer.from(text, 'utf8');
      await new Promise<void>((resolve, reject) =>
        socket.send(buf, 0, buf.length, this.path!, (error) => (error ? reject(error) : resolve())),
      );
    } catch (error) {
      this.log.warn(`Can't notify systemd: ${reason(error)}`);
    } finally {
      socket.close();
    }
  }

  watchdogIntervalMs(): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isFinite(usec) || usec <= 0) return undefined;
    const pid = this.env.WATCHDOG_PID;
    if (pid !== undefined && Number(pid) !== process.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }
}
