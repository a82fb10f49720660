import type { Command } from 'commander';
import { ConfigError, loadDeviceConfig } from './config/device-config.loader.js';
import { redactConfig } from './config/device-config.schema.js';

export function registerDeviceCommands(program: Command): void {
  program
    .command('device')
    .description('run the box daemon in the foreground')
    .option('-c, --config <file>', 'device config (JSON); default: $CLASSBOX_CONFIG')
    .option('--print-config', 'print the effective config with secrets redacted, then exit')
    .action(async (options: { config?: string; printConfig?: boolean }) => {
      const file = options.config ?? process.env.CLASSBOX_CONFIG;
      if (!file) {
        process.stderr.write('classbox device: no config file: pass --config FILE or set CLASSBOX_CONFIG\n');
        process.exitCode = 2;
        return;
      }
      let config;
      try {
        config = await loadDeviceConfig(file);
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        process.stderr.write(`classbox device: invalid config ${error.file}\n`);
        for (const line of error.lines) process.stderr.write(`  ${line}\n`);
        process.exitCode = 2;
        return;
      }
      if (options.printConfig) {
        process.stdout.write(`${JSON.stringify(redactConfig(config), null, 2)}\n`);
        return;
      }
      // Chromium starts first, so its launch overlaps loading the daemon's modules and Nest's init
      // (which READY=1 otherwise waited for in turn): the adapter takes this browser over. The page is
      // served at once by a bare server on the control port, so Chromium loads it meanwhile too.
      let early: import('./adapters/kiosk-page.early.js').EarlyKioskPage | undefined;
      let prelaunch: import('./adapters/kiosk-browser.puppeteer.js').ChromiumPrelaunch | undefined;
      if (config.kiosk.browser === 'chromium') {
        const [{ EarlyKioskPage }, { ChromiumPrelaunch }] = await Promise.all([
          import('./adapters/kiosk-page.early.js'),
          import('./adapters/kiosk-browser.puppeteer.js'),
        ]);
        // Chromium's launch takes far longer than the server's start, so it is not held up by it.
        const serving = EarlyKioskPage.start(config.control.port);
        prelaunch = ChromiumPrelaunch.start(
          config.kiosk,
          serving.then((served) => served && `http://127.0.0.1:${config.control.port}/`),
        );
        early = await serving;
      }
      const { runDaemon } = await import('./daemon.js');
      process.exitCode = await runDaemon(config, { configFile: file, prelaunch, early });
    });
}
