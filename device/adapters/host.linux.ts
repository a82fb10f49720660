import { Injectable } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { HostPort } from '../ports/host.port.js';

const run = promisify(execFile);

/** A Raspberry Pi (or any Linux): /proc and /sys for vitals, systemd for the reboot. */
@Injectable()
export class LinuxHost extends HostPort {
  async uptimeSec(): Promise<number> {
    const text = await readFile('/proc/uptime', 'utf8');
    return Number(text.split(' ')[0]);
  }

  async temperatureC(): Promise<number | undefined> {
    try {
      // thermal_zone0 is the SoC on every Raspberry Pi model; millidegrees Celsius.
      const milli = Number((await readFile('/sys/class/thermal/thermal_zone0/temp', 'utf8')).trim());
      return Number.isFinite(milli) ? milli / 1000 : undefined;
    } catch {
      return undefined;
    }
  }

  async reboot(): Promise<void> {
    await run('systemctl', ['reboot'], { timeout: 10_000 });
  }
}
