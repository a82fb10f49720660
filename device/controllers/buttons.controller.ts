import {
  Body,
  ConflictException,
  Controller,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  BadRequestException,
} from '@nestjs/common';
import { z } from 'zod';
import { describeIssues } from '../../common/zod-issues.js';
import { SimulationUnsupportedError } from '../ports/health.js';
import { ButtonsService, MAX_SIMULATED_HOLD_MS } from '../services/buttons.service.js';
import { StatusService, type DeviceStatus } from '../services/status.service.js';

const pressBody = z
  .strictObject({ holdMs: z.int().min(0).max(MAX_SIMULATED_HOLD_MS).default(120) })
  .default({ holdMs: 120 });

@Controller('api/buttons')
export class ButtonsController {
  constructor(
    private readonly buttons: ButtonsService,
    private readonly status: StatusService,
  ) {}

  /** Press (and hold for `holdMs`) a simulated button; answers after the release, with the new status. */
  @Post(':name/press')
  @HttpCode(200)
  async press(@Param('name') name: string, @Body() body: unknown): Promise<DeviceStatus> {
    if (name !== 'class' && name !== 'mute') {
      throw new NotFoundException(`no button "${name}": the buttons are "class" and "mute"`);
    }
    const parsed = pressBody.safeParse(body ?? undefined);
    if (!parsed.success) throw new BadRequestException(describeIssues(parsed.error).join('; '));
    try {
      await this.buttons.simulatePress(name, parsed.data.holdMs);
    } catch (error) {
      if (error instanceof SimulationUnsupportedError) throw new ConflictException(error.message);
      throw error;
    }
    return this.status.status();
  }
}
