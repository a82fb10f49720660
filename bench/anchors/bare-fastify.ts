import Fastify from 'fastify';

/**
 * The fleet anchor: a bare Fastify route on the same machine answering what the fleet server answers to
 * a heartbeat (the same JSON shape), with no signature check, validation or database.
 */
const port = Number(process.argv[2] ?? 0);
const app = Fastify({ logger: false });
app.post('/api/v1/devices/:id/heartbeat', async () => ({
  actions: [],
  configEtag: '"0123456789abcdef"',
  serverTime: new Date().toISOString(),
}));
await app.listen({ port, host: '127.0.0.1' });
process.stdout.write(`listening ${port}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
