import { Controller, Get, Headers, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { parseRange } from '../../common/http-range.js';
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
    const span = parseRange(range, video.size);
    if (span === 'unsatisfiable') {
      await reply.status(416).header('content-range', `bytes */${video.size}`).send();
      return;
    }
    const [start, end] = span ?? [0, video.size - 1];
    void reply
      .status(span ? 206 : 200)
      .header('content-type', 'video/webm')
      .header('accept-ranges', 'bytes')
      .header('content-length', String(end - start + 1))
      .header('cache-control', 'no-store');
    if (span) void reply.header('content-range', `bytes ${start}-${end}/${video.size}`);
    await reply.send(video.read(start, end));
  }
}
