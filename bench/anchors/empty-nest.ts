import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import unixDgram from 'unix-dgram';

/**
 * The anchors for startup and memory: an empty Nest application, started in a child process and
 * announced with READY=1 on $NOTIFY_SOCKET exactly as the daemon announces itself, so both are timed
 * and sampled the same way. `context`: an application context only; `http`: Nest + Fastify listening.
 */
@Module({})
class EmptyModule {}

async function main(mode: string): Promise<void> {
  if (mode === 'http') {
    const app = await NestFactory.create<NestFastifyApplication>(EmptyModule, new FastifyAdapter(), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
  } else {
    await NestFactory.createApplicationContext(EmptyModule, { logger: false });
  }
  const path = process.env.NOTIFY_SOCKET;
  if (!path) throw new Error('NOTIFY_SOCKET is not set');
  const socket = unixDgram.createSocket('unix_dgram');
  const message = Buffer.from('READY=1');
  socket.on('error', () => socket.close());
  socket.send(message, 0, message.length, path, () => socket.close());
  // Stay up (idle, like the daemon) until the runner stops us.
  await new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  process.exit(0);
}

await main(process.argv[2] ?? 'context');
