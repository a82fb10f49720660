import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { DeviceConfig } from './config/device-config.schema.js';
import { SimCamera } from './adapters/camera.sim.js';
import { SystemClock } from './adapters/clock.system.js';
import { SimGpio } from './adapters/gpio.sim.js';
import { JanodeJanus } from './adapters/janus.janode.js';
import { NoKioskBrowser } from './adapters/kiosk-browser.none.js';
import { PuppeteerKiosk } from './adapters/kiosk-browser.puppeteer.js';
import { SimMicrophone } from './adapters/microphone.sim.js';
import { SdNotifySystemd } from './adapters/systemd.sd-notify.js';
import { ButtonsController } from './controllers/buttons.controller.js';
import { StatusController } from './controllers/status.controller.js';
import { KioskPageGateway } from './gateways/kiosk-page.gateway.js';
import { CameraPort } from './ports/camera.port.js';
import { ClockPort } from './ports/clock.port.js';
import { GpioPort } from './ports/gpio.port.js';
import { JanusPort } from './ports/janus.port.js';
import { KioskBrowserPort } from './ports/kiosk-browser.port.js';
import { MicrophonePort } from './ports/microphone.port.js';
import { SystemdPort } from './ports/systemd.port.js';
import { ButtonsService } from './services/buttons.service.js';
import { ClassSessionService } from './services/class-session.service.js';
import { ConfigService } from './services/config.service.js';
import { HealthService } from './services/health.service.js';
import { KioskService } from './services/kiosk.service.js';
import { LedService } from './services/led.service.js';
import { LifecycleService } from './services/lifecycle.service.js';
import { MetricsService } from './services/metrics.service.js';
import { MuteService } from './services/mute.service.js';
import { ScreenService } from './services/screen.service.js';
import { StatusService } from './services/status.service.js';
import { UplinkService } from './services/uplink.service.js';
import { fleetProviders } from './fleet.providers.js';

/** Which adapter serves each hardware port, by `hardware.mode`. The only place that branches on it. */
function hardwareAdapters(config: DeviceConfig): Provider[] {
  switch (config.hardware.mode) {
    case 'sim':
      return [
        { provide: GpioPort, useClass: SimGpio },
        { provide: CameraPort, useClass: SimCamera },
        { provide: MicrophonePort, useClass: SimMicrophone },
      ];
    case 'pi':
      return piAdapters();
  }
}

/** Real Raspberry Pi adapters; filled in by the hardware issue, sim until then. */
function piAdapters(): Provider[] {
  return [
    { provide: GpioPort, useClass: SimGpio },
    { provide: CameraPort, useClass: SimCamera },
    { provide: MicrophonePort, useClass: SimMicrophone },
  ];
}

/** The composition root of the box daemon. */
@Module({})
export class DeviceModule {
  static forConfig(config: DeviceConfig, overrides: Provider[] = []): DynamicModule {
    return {
      module: DeviceModule,
      controllers: [StatusController, ButtonsController],
      providers: [
        { provide: ConfigService, useFactory: () => new ConfigService(config) },
        { provide: ClockPort, useClass: SystemClock },
        { provide: SystemdPort, useFactory: () => new SdNotifySystemd(process.env) },
        { provide: JanusPort, useClass: JanodeJanus },
        {
          provide: KioskBrowserPort,
          useClass: config.kiosk.browser === 'chromium' ? PuppeteerKiosk : NoKioskBrowser,
        },
        ...hardwareAdapters(config),
        KioskPageGateway,
        MetricsService,
        HealthService,
        MuteService,
        ClassSessionService,
        ButtonsService,
        LedService,
        UplinkService,
        ScreenService,
        StatusService,
        KioskService,
        LifecycleService,
        ...fleetProviders(config),
        ...overrides,
      ],
    };
  }
}
