import { ConflictException, Controller, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { CameraPort } from '../ports/camera.port.js';
import { SimulationUnsupportedError } from '../ports/health.js';
import { MicrophonePort } from '../ports/microphone.port.js';
import { HealthService } from '../services/health.service.js';
import { StatusService, type DeviceStatus } from '../services/status.service.js';

/** Hot-plug in `sim` mode: unplug and plug the simulated camera and microphone. */
@Controller('api/sim')
export class SimController {
  constructor(
    private readonly camera: CameraPort,
    private readonly microphone: MicrophonePort,
    private readonly health: HealthService,
    private readonly status: StatusService,
  ) {}

  /** `POST /api/sim/{camera|microphone}/{unplug|plug}`; answers with the status after the health check. */
  @Post(':device/:action')
  @HttpCode(200)
  async plug(@Param('device') device: string, @Param('action') action: string): Promise<DeviceStatus> {
    if (device !== 'camera' && device !== 'microphone') {
      throw new NotFoundException(
        `no simulated device "${device}": the devices are "camera" and "microphone"`,
      );
    }
    if (action !== 'plug' && action !== 'unplug') {
      throw new NotFoundException(`no action "${action}": the actions are "plug" and "unplug"`);
    }
    try {
      (device === 'camera' ? this.camera : this.microphone).simulatePlugged(action === 'plug');
    } catch (error) {
      if (error instanceof SimulationUnsupportedError) throw new ConflictException(error.message);
      throw error;
    }
    // Check now rather than at the next poll, so the answer already shows the change.
    await this.health.checkDevices();
    return this.status.status();
  }
}
