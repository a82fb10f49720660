import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { describeIssues } from '../common/zod-issues.js';
import { hardwareConfigSchema } from './config/device-config.schema.js';

const DEFAULT_CONFIG = '/etc/classbox/device.json';

/**
 * `classbox doctor`: what only a real Pi can confirm, for IT at the box (issue 12). Reads only the
 * `hardware` section of the config, so it also runs on a box that has not enrolled yet.
 */
export function registerDoctorCommands(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the board, GPIO chip and pulls, buttons, camera, audio and display session on this box',
    )
    .option('-c, --config <file>', `device config (JSON); default: $CLASSBOX_CONFIG or ${DEFAULT_CONFIG}`)
    .option('--boot-config <file>', "the firmware's config.txt", '/boot/firmware/config.txt')
    .action(async (options: { config?: string; bootConfig: string }) => {
      const file = options.config ?? process.env.CLASSBOX_CONFIG ?? DEFAULT_CONFIG;
      let raw: { hardware?: unknown } = {};
      try {
        raw = JSON.parse(await readFile(file, 'utf8')) as { hardware?: unknown };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          process.stderr.write(`classbox doctor: can't read ${file}: ${(error as Error).message}\n`);
          process.exitCode = 2;
          return;
        }
        process.stdout.write(`(no ${file}: checking the default pins and devices)\n`);
      }
      const hardware = hardwareConfigSchema.safeParse(raw.hardware ?? {});
      if (!hardware.success) {
        process.stderr.write(`classbox doctor: invalid hardware section in ${file}\n`);
        for (const line of describeIssues(hardware.error)) process.stderr.write(`  hardware.${line}\n`);
        process.exitCode = 2;
        return;
      }
      const [{ runDoctor, formatDoctor }, { NodeProcesses }, { SystemClock }, { files }] = await Promise.all([
        import('./doctor/doctor.js'),
        import('./adapters/process.node.js'),
        import('./adapters/clock.system.js'),
        import('./adapters/files.fs.js'),
      ]);
      const clock = new SystemClock();
      const checks = await runDoctor(hardware.data, {
        sysRoot: process.env.CLASSBOX_SYS_ROOT ?? '/sys',
        procRoot: process.env.CLASSBOX_PROC_ROOT ?? '/proc',
        devRoot: process.env.CLASSBOX_DEV_ROOT ?? '/dev',
        bootConfig: options.bootConfig,
        kioskSocket: process.env.CLASSBOX_KIOSK_SOCKET ?? '/run/classbox-kiosk/wayland-0',
        pinctrl: 'pinctrl',
        systemctl: 'systemctl',
        processes: new NodeProcesses(),
        files,
        clock,
        keys: async (options) =>
          new (await import('./adapters/key-input.evdev.js')).EvdevKeyInput(clock, options),
      });
      process.stdout.write(`${formatDoctor(checks)}\n`);
      process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
    });
}
