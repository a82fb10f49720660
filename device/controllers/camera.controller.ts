import { Controller, Get, Header, Res, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { SnapshotError, SnapshotService } from '../services/snapshot.service.js';

@Controller('api/camera')
export class CameraController {
  constructor(private readonly snapshots: SnapshotService) {}

  /** A JPEG of what the camera sees now (from the page's live stream while it runs). */
  @Get('snapshot')
  @Header('Cache-Control', 'no-store')
  async snapshot(@Res({ passthrough: true }) reply: FastifyReply): Promise<Buffer> {
    try {
      const { image, source } = await this.snapshots.take();
      void reply.header('Content-Type', 'image/jpeg').header('X-Classbox-Snapshot-Source', source);
      return image;
    } catch (error) {
      if (error instanceof SnapshotError)
        throw new ServiceUnavailableException(`Can't take a snapshot: ${error.message}`);
      throw error;
    }
  }
}
