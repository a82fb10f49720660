import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminApiClient } from '../../../provisioning/adapters/admin-api.http.js';

/** The IT tools' admin API client against a server whose answers are not what was asked for. */
describe('AdminApiClient', () => {
  let server: Server;
  let url: string;
  const answers = new Map<string, { status: number; body: string }>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const answer = answers.get(`${req.method} ${req.url}`) ?? { status: 404, body: '' };
        res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('refuses an answer that does not match its schema, naming the field, instead of casting it', async () => {
    answers.set('POST /api/v1/admin/releases', { status: 201, body: '{"release":"1.4.0"}' });
    await expect(new AdminApiClient(url, 'token').createRelease('{}', {})).rejects.toMatchObject({
      code: 'E-ADMIN-API-BAD-ANSWER',
      message: expect.stringMatching(
        /^the fleet server's answer for the release is not what was asked for: version: /,
      ),
    });
  });

  it("shows the server's own reason and code on a refusal, and never the token", async () => {
    answers.set('POST /api/v1/admin/releases/9.9.9/rollouts', {
      status: 404,
      body: '{"error":{"code":"E-NOT-FOUND","message":"no release 9.9.9"}}',
    });
    const refusal = new AdminApiClient(url, 'secret-admin-token').createRollout('9.9.9', {
      percent: 100,
      force: false,
    });
    await expect(refusal).rejects.toMatchObject({
      code: 'E-ADMIN-API-FAILED',
      message: 'the fleet server answered HTTP 404 for release 9.9.9: no release 9.9.9 [E-NOT-FOUND]',
    });
    await expect(refusal).rejects.not.toThrow('secret-admin-token');
  });
});
