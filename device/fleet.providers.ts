import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { FsFleetState } from './adapters/fleet-state.fs.js';
import { HttpFleet } from './adapters/fleet.http.js';
import { LinuxHost } from './adapters/host.linux.js';
import { MemoryLogSource } from './adapters/log-source.memory.js';
import { SimHost } from './adapters/host.sim.js';
import type { DeviceConfig } from './config/device-config.schema.js';
import { FleetPort, FleetStatePort } from './ports/fleet.port.js';
import { HostPort } from './ports/host.port.js';
import { LogSourcePort } from './ports/log-source.port.js';
import { FleetEnrolmentService } from './services/fleet-enrolment.service.js';
import { FleetSyncService } from './services/fleet-sync.service.js';
import { NextClassService } from './services/next-class.service.js';
import { RemoteActionsService } from './services/remote-actions.service.js';
import { HttpClassPlacement } from './adapters/class-placement.http.js';
import { ClassPlacementPort } from './ports/class-placement.port.js';
import { HttpCatchupFleet } from './adapters/catchup-fleet.http.js';
import { FsCatchupStore } from './adapters/catchup-store.fs.js';
import { CatchupFleetPort, CatchupStorePort } from './ports/catchup.port.js';
import { CatchupService } from './services/catchup.service.js';
import { ReplayService } from './services/replay.service.js';

/**
 * The box's side of the fleet (enrolment, heartbeat and config, timetable, remote actions) and
 * its adapters; only on a box whose config names a fleet server.
 */
export function fleetProviders(config: DeviceConfig): Provider[] {
  if (!config.fleet) return [];
  return [
    { provide: FleetPort, useClass: HttpFleet },
    { provide: FleetStatePort, useFactory: () => new FsFleetState(config.stateDir) },
    { provide: HostPort, useClass: config.hardware.mode === 'pi' ? LinuxHost : SimHost },
    { provide: LogSourcePort, useClass: MemoryLogSource },
    FleetEnrolmentService,
    NextClassService,
    RemoteActionsService,
    FleetSyncService,
    { provide: CatchupStorePort, useFactory: () => new FsCatchupStore(config.stateDir) },
    { provide: CatchupFleetPort, useClass: HttpCatchupFleet },
    CatchupService,
    ReplayService,
    {
      provide: ClassPlacementPort,
      // Signed like every device request; before enrolment there is no key, and nothing to ask. The
      // enrolment is looked up when asked, not injected: it needs the class session, which needs this.
      useFactory: (refs: ModuleRef) =>
        new HttpClassPlacement(() => refs.get(FleetEnrolmentService, { strict: false }).signingSession()),
      inject: [ModuleRef],
    },
  ];
}
