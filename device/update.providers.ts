import type { Provider } from '@nestjs/common';
import { HttpReleaseDownload } from './adapters/release-download.http.js';
import { FsReleaseFiles } from './adapters/release-files.fs.js';
import { SimRestart } from './adapters/restart.sim.js';
import { SystemctlRestart } from './adapters/restart.systemctl.js';
import { updateCheckpoint } from './adapters/update-checkpoint.js';
import { FsUpdateState } from './adapters/update-state.fs.js';
import type { DeviceConfig } from './config/device-config.schema.js';
import { ClockPort } from './ports/clock.port.js';
import { ReleaseDownloadPort, ReleaseFilesPort, RestartPort, UpdateStatePort } from './ports/update.port.js';
import { ReleaseInstaller } from './services/release-installer.js';
import { UpdaterService } from './services/updater.service.js';

/** The updater and its adapters; updates come from the fleet, so only with a fleet section. */
export function updateProviders(config: DeviceConfig): Provider[] {
  if (!config.fleet) return [];
  const update = config.update;
  return [
    {
      provide: ReleaseFilesPort,
      useFactory: () => new FsReleaseFiles({ root: update.root, trustedKeysDir: update.trustedKeysDir }),
    },
    { provide: ReleaseDownloadPort, useClass: HttpReleaseDownload },
    { provide: UpdateStatePort, useFactory: () => new FsUpdateState(config.stateDir) },
    {
      provide: RestartPort,
      useFactory: () =>
        config.hardware.mode === 'pi' ? new SystemctlRestart(update.unit) : new SimRestart(),
    },
    {
      provide: ReleaseInstaller,
      useFactory: (
        files: ReleaseFilesPort,
        download: ReleaseDownloadPort,
        state: UpdateStatePort,
        clock: ClockPort,
      ) =>
        new ReleaseInstaller(files, download, state, {
          healthTimeoutMs: update.healthTimeoutSec * 1000,
          maxTrialStarts: update.maxTrialStarts,
          marginBytes: update.freeMarginMB * 1024 * 1024,
          now: () => clock.now(),
          checkpoint: updateCheckpoint(process.env),
        }),
      inject: [ReleaseFilesPort, ReleaseDownloadPort, UpdateStatePort, ClockPort],
    },
    UpdaterService,
  ];
}
