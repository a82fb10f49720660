import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AdminController } from './controllers/admin.controller.js';
import { DeviceApiController } from './controllers/device-api.controller.js';
import { EnrolController } from './controllers/enrol.controller.js';
import type { FleetStore } from './db/database.js';
import { FleetExceptionFilter } from './fleet-exception.filter.js';
import { AdminGuard } from './guards/admin.guard.js';
import { DeviceSignatureGuard } from './guards/device-signature.guard.js';
import { DeviceHotPathRepository } from './repositories/device-hot-path.repository.js';
import { PostgresDeviceHotPath } from './repositories/device-hot-path.postgres.js';
import { SqliteDeviceHotPath } from './repositories/device-hot-path.sqlite.js';
import { FleetDbHandle, FleetRepository } from './repositories/fleet.repository.js';
import { OverviewRepository } from './repositories/overview.repository.js';
import { HistoryRepository } from './repositories/history.repository.js';
import { VitalsHistoryWriter } from './repositories/vitals-history.repository.js';
import { SqliteVitalsHistory } from './repositories/vitals-history.sqlite.js';
import { PostgresVitalsHistory } from './repositories/vitals-history.postgres.js';
import { HistoryService } from './services/history.service.js';
import { VitalsHistoryBuffer } from './services/vitals-history-buffer.service.js';
import { OverviewService } from './services/overview.service.js';
import { AdminAuthService } from './services/admin-auth.service.js';
import { AuditService } from './services/audit.service.js';
import { CentresService } from './services/centres.service.js';
import { DesiredConfigService } from './services/desired-config.service.js';
import { DevicesService } from './services/devices.service.js';
import { EnrolmentService } from './services/enrolment.service.js';
import { FleetClock, FleetOptions, SystemFleetClock } from './services/fleet-options.js';
import { RequestSignatureService } from './services/request-signature.service.js';
import { ReleasesController } from './controllers/releases.controller.js';
import {
  ReleasePayloadOptions,
  ReleasePayloadRepository,
} from './repositories/release-payload.repository.js';
import { ReleasesRepository } from './repositories/releases.repository.js';
import { ReleasesService } from './services/releases.service.js';
import { MediaNodeAdminPort } from './ports/media-node-admin.port.js';
import { HttpMediaNodeAdmin } from './adapters/media-node-admin.http.js';
import { MediaNodesRepository } from './repositories/media-nodes.repository.js';
import { ClassPlacementService } from './services/class-placement.service.js';
import { MediaNodesService } from './services/media-nodes.service.js';
import { MediaNodeMonitor } from './services/media-node-monitor.service.js';
import { LectureForwardingService } from './services/lecture-forwarding.service.js';
import { MediaNodesController } from './controllers/media-nodes.controller.js';
import { JanusRecordingTools } from './adapters/recording-tools.janus.js';
import { RecordingToolsPort } from './ports/recording-tools.port.js';
import { RecordingsOptions, RecordingsRepository } from './repositories/recordings.repository.js';
import { CatchupCutsService } from './services/catchup-cuts.service.js';
import { CatchupStatsRepository } from './repositories/catchup-stats.repository.js';
import { CatchupStatsService } from './services/catchup-stats.service.js';

/** The services of the fleet server, without HTTP; the CLI uses them directly too. */
@Module({})
export class FleetCoreModule {
  static forDatabase(
    store: FleetStore,
    options: FleetOptions,
    clock: FleetClock = new SystemFleetClock(),
    payloads: ReleasePayloadOptions = { dir: 'releases' },
    recordings: RecordingsOptions = { dir: 'recordings', keepHours: 72 },
  ): DynamicModule {
    const { db, raw } = store;
    return {
      module: FleetCoreModule,
      providers: [
        { provide: ReleasePayloadOptions, useValue: payloads },
        {
          provide: ReleasePayloadRepository,
          useFactory: (options: ReleasePayloadOptions) => new ReleasePayloadRepository(options),
          inject: [ReleasePayloadOptions],
        },
        ReleasesRepository,
        ReleasesService,
        { provide: FleetDbHandle, useValue: { db } },
        {
          provide: DeviceHotPathRepository,
          useFactory: () =>
            raw.kind === 'sqlite'
              ? new SqliteDeviceHotPath(db, raw.sqlite)
              : new PostgresDeviceHotPath(raw.pool),
        },
        {
          provide: VitalsHistoryWriter,
          useFactory: () =>
            raw.kind === 'sqlite'
              ? new SqliteVitalsHistory(db, raw.sqlite)
              : new PostgresVitalsHistory(raw.pool),
        },
        HistoryRepository,
        VitalsHistoryBuffer,
        HistoryService,
        { provide: FleetOptions, useValue: options },
        { provide: FleetClock, useValue: clock },
        FleetRepository,
        OverviewRepository,
        OverviewService,
        AdminAuthService,
        AuditService,
        CentresService,
        DesiredConfigService,
        DevicesService,
        EnrolmentService,
        RequestSignatureService,
        { provide: MediaNodeAdminPort, useClass: HttpMediaNodeAdmin },
        MediaNodesRepository,
        LectureForwardingService,
        ClassPlacementService,
        MediaNodesService,
        { provide: RecordingsOptions, useValue: recordings },
        {
          provide: RecordingsRepository,
          useFactory: (options: RecordingsOptions) => new RecordingsRepository(options),
          inject: [RecordingsOptions],
        },
        { provide: RecordingToolsPort, useClass: JanusRecordingTools },
        CatchupCutsService,
        CatchupStatsRepository,
        CatchupStatsService,
      ],
      exports: [
        CatchupCutsService,
        CatchupStatsService,
        ClassPlacementService,
        LectureForwardingService,
        MediaNodesService,
        HistoryService,
        ReleasesService,
        OverviewService,
        FleetRepository,
        AdminAuthService,
        AuditService,
        CentresService,
        DesiredConfigService,
        DevicesService,
        EnrolmentService,
        RequestSignatureService,
        FleetClock,
        FleetOptions,
      ],
    };
  }
}

/** The composition root of the fleet server. */
@Module({})
export class FleetServerModule {
  static forDatabase(
    store: FleetStore,
    options: FleetOptions,
    clock?: FleetClock,
    payloads?: ReleasePayloadOptions,
    recordings?: RecordingsOptions,
  ): DynamicModule {
    return {
      module: FleetServerModule,
      imports: [FleetCoreModule.forDatabase(store, options, clock, payloads, recordings)],
      controllers: [
        EnrolController,
        DeviceApiController,
        AdminController,
        ReleasesController,
        MediaNodesController,
      ],
      providers: [
        AdminGuard,
        DeviceSignatureGuard,
        { provide: APP_FILTER, useClass: FleetExceptionFilter },
        // The placement rounds run in the server only; the CLI's one-off commands start no timer.
        MediaNodeMonitor,
      ],
    };
  }
}
