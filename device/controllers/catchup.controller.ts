import { Controller, Get, Headers, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { sendByteRange } from '../../common/http-range.js';
import { CatchupService } from '../services/catchup.service.js';

/** The catch-up videos for the kiosk page's video element (issue 21), on the loopback server. */
@Controller('catchup/videos')
export class CatchupController {
  constructor(private readonly catchup: CatchupService) {}

  @Get(':name')
  async video(
    @Param('name') name: string,
    @Headers('range') range: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const video = await this.catchup.openVideo(name).catch(() => undefined);
    if (!video) throw new NotFoundException(`no catch-up video ${name}`);
    await sendByteRange(reply, range, video.size, 'video/webm', (start, end) => video.read(start, end));
  }
}
