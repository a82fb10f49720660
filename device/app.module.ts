import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import type { DeviceConfig } from './config/device-config.schema.js';
import { AlsaDevices, AlsaMicrophone, AlsaSpeaker } from './adapters/audio.alsa.js';
import { CsiCameraAdapter } from './adapters/camera.csi.js';
import { SimCamera } from './adapters/camera.sim.js';
import { UvcCameraAdapter } from './adapters/camera.uvc.js';
import { DeviceTreeBoard } from './adapters/board.device-tree.js';
import { SystemClock } from './adapters/clock.system.js';
import { SimGpio } from './adapters/gpio.sim.js';
import { PinctrlGpioBias } from './adapters/gpio-bias.pinctrl.js';
import { SimGpioBias } from './adapters/gpio-bias.sim.js';
import { SimKeyInput } from './adapters/key-input.sim.js';
import { JanodeJanus } from './adapters/janus.janode.js';
import { ClassLocationService } from './services/class-location.service.js';
import { NoClassPlacement } from './adapters/class-placement.none.js';
import { ClassPlacementPort } from './ports/class-placement.port.js';
import { NoKioskBrowser } from './adapters/kiosk-browser.none.js';
import { ChromiumPrelaunch, PuppeteerKiosk } from './adapters/kiosk-browser.puppeteer.js';
import { SimMicrophone } from './adapters/microphone.sim.js';
import { TcpNetwork } from './adapters/network.tcp.js';
import { NodeProcesses } from './adapters/process.node.js';
import { SimSpeaker } from './adapters/speaker.sim.js';
import { SimStillCamera } from './adapters/still-camera.sim.js';
import { SdNotifySystemd } from './adapters/systemd.sd-notify.js';
import { ButtonsController } from './controllers/buttons.controller.js';
import { CameraController } from './controllers/camera.controller.js';
import { CatchupController } from './controllers/catchup.controller.js';
import { SimController } from './controllers/sim.controller.js';
import { StatusController } from './controllers/status.controller.js';
import { KioskPageGateway } from './gateways/kiosk-page.gateway.js';
import { KioskPagePort } from './ports/kiosk-page.port.js';
import { BoardPort } from './ports/board.port.js';
import { CameraPort } from './ports/camera.port.js';
import { ClockPort } from './ports/clock.port.js';
import { GpioPort } from './ports/gpio.port.js';
import { GpioBiasPort } from './ports/gpio-bias.port.js';
import { KeyInputPort } from './ports/key-input.port.js';
import { JanusPort } from './ports/janus.port.js';
import { KioskBrowserPort } from './ports/kiosk-browser.port.js';
import { MicrophonePort } from './ports/microphone.port.js';
import { NetworkPort } from './ports/network.port.js';
import { ProcessPort } from './ports/process.port.js';
import { SpeakerPort } from './ports/speaker.port.js';
import { StillCameraPort } from './ports/still-camera.port.js';
import { SystemdPort } from './ports/systemd.port.js';
import { StoragePort } from './ports/storage.port.js';
import { StatfsStorage } from './adapters/storage.statfs.js';
import { ButtonsService } from './services/buttons.service.js';
import { CameraWatchService } from './services/camera-watch.service.js';
import { ClassSessionService } from './services/class-session.service.js';
import { ConfigService } from './services/config.service.js';
import { HealthService } from './services/health.service.js';
import { KioskService } from './services/kiosk.service.js';
import { LedService } from './services/led.service.js';
import { LifecycleService } from './services/lifecycle.service.js';
import { MediaService } from './services/media.service.js';
import { MetricsService } from './services/metrics.service.js';
import { MuteService } from './services/mute.service.js';
import { ScreenService } from './services/screen.service.js';
import { SelfTestService } from './services/self-test.service.js';
import { SnapshotService } from './services/snapshot.service.js';
import { StatusService } from './services/status.service.js';
import { ReceiveService } from './services/receive.service.js';
import { UplinkService } from './services/uplink.service.js';
import { fleetProviders } from './fleet.providers.js';
import { updateProviders } from './update.providers.js';

/** Which adapter serves each hardware port, by `hardware.mode`. The only place that branches on it. */
function hardwareAdapters(config: DeviceConfig): Provider[] {
  switch (config.hardware.mode) {
    case 'sim':
      return [
        { provide: GpioPort, useClass: SimGpio },
        { provide: GpioBiasPort, useClass: SimGpioBias },
        { provide: KeyInputPort, useClass: SimKeyInput },
        { provide: CameraPort, useClass: SimCamera },
        { provide: MicrophonePort, useClass: SimMicrophone },
        { provide: SpeakerPort, useClass: SimSpeaker },
        { provide: StillCameraPort, useClass: SimStillCamera },
      ];
    case 'pi':
      return piAdapters(config);
  }
}

/**
 * Real Raspberry Pi adapters: sysfs GPIO with pinctrl pulls, USB buttons through evdev, UVC or CSI camera,
 * ALSA microphone and speaker, libcamera stills.
 */
function piAdapters(config: DeviceConfig): Provider[] {
  const { camera, microphone, speaker } = config.hardware;
  return [
    {
      provide: GpioPort,
      // Imported only in pi mode: onoff loads the native epoll addon, which exists only on Linux.
      useFactory: async (clock: ClockPort) => new (await import('./adapters/gpio.onoff.js')).OnoffGpio(clock),
      inject: [ClockPort],
    },
    {
      provide: GpioBiasPort,
      useFactory: (processes: ProcessPort) => new PinctrlGpioBias(processes),
      inject: [ProcessPort],
    },
    {
      provide: KeyInputPort,
      // Imported only in pi mode: it loads the native epoll addon, which exists only on Linux.
      useFactory: async (clock: ClockPort) =>
        new (await import('./adapters/key-input.evdev.js')).EvdevKeyInput(clock),
      inject: [ClockPort],
    },
    camera.kind === 'csi'
      ? {
          provide: CameraPort,
          useFactory: (processes: ProcessPort, clock: ClockPort) =>
            new CsiCameraAdapter(processes, clock, { ...camera, loopback: camera.csiLoopback }),
          inject: [ProcessPort, ClockPort],
        }
      : {
          provide: CameraPort,
          useFactory: () =>
            new UvcCameraAdapter(camera.name, '/sys', camera.kind === 'v4l2' ? 'v4l2' : 'uvc'),
        },
    {
      provide: AlsaDevices,
      useFactory: (processes: ProcessPort) => new AlsaDevices(processes),
      inject: [ProcessPort],
    },
    {
      provide: MicrophonePort,
      useFactory: (devices: AlsaDevices) => new AlsaMicrophone(devices, microphone.name),
      inject: [AlsaDevices],
    },
    {
      provide: SpeakerPort,
      useFactory: (devices: AlsaDevices) => new AlsaSpeaker(devices, speaker.name),
      inject: [AlsaDevices],
    },
    {
      provide: StillCameraPort,
      // Imported only in pi mode, like onoff: a simulated box never loads node-libcamera.
      useFactory: async () =>
        new (await import('./adapters/still-camera.libcamera.js')).LibcameraStillCamera(),
    },
  ];
}

/** The composition root of the box daemon. */
@Module({})
export class DeviceModule {
  static forConfig(config: DeviceConfig, overrides: Provider[] = []): DynamicModule {
    return {
      module: DeviceModule,
      controllers: [
        StatusController,
        ButtonsController,
        CameraController,
        SimController,
        // Lesson catch-up's videos (issue 21): fetched from the fleet, so only on a fleet box.
        ...(config.fleet ? [CatchupController] : []),
      ],
      providers: [
        { provide: ConfigService, useFactory: () => new ConfigService(config) },
        { provide: ClockPort, useClass: SystemClock },
        { provide: BoardPort, useFactory: () => new DeviceTreeBoard() },
        { provide: SystemdPort, useFactory: () => new SdNotifySystemd(process.env) },
        { provide: JanusPort, useClass: JanodeJanus },
        {
          provide: StoragePort,
          useFactory: (config: ConfigService) => new StatfsStorage(config),
          inject: [ConfigService],
        },
        // runDaemon overrides it with the Chromium it launched before loading the app (issue 17).
        { provide: ChromiumPrelaunch, useFactory: () => ChromiumPrelaunch.none() },
        {
          provide: KioskBrowserPort,
          useClass: config.kiosk.browser === 'chromium' ? PuppeteerKiosk : NoKioskBrowser,
        },
        { provide: ProcessPort, useClass: NodeProcesses },
        { provide: NetworkPort, useClass: TcpNetwork },
        ...hardwareAdapters(config),
        { provide: KioskPagePort, useClass: KioskPageGateway },
        MetricsService,
        HealthService,
        MuteService,
        ClassLocationService,
        ClassSessionService,
        ButtonsService,
        LedService,
        UplinkService,
        ReceiveService,
        MediaService,
        ScreenService,
        StatusService,
        KioskService,
        LifecycleService,
        // Without a fleet there is nobody to ask where the class moved; fleetProviders replaces it.
        ...(config.fleet ? [] : [{ provide: ClassPlacementPort, useClass: NoClassPlacement }]),
        ...fleetProviders(config),
        ...updateProviders(config),
        SelfTestService,
        CameraWatchService,
        SnapshotService,
        ...overrides,
      ],
    };
  }
}
