import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JanusServer } from '../../../device/demo/janus-server.js';
import { startTeacherServer } from '../../../device/demo/teacher-server.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';
import { startBox, type TestBox } from '../../helpers/box.js';
import { joinAsTeacher, launchParticipant, waitFor } from '../../helpers/browser.js';
import { BOX_NAME, kioskOf, teacherDecodesBox } from '../../helpers/classroom.js';
import { freePort } from '../../helpers/ports.js';

const ADMIN = generateAdminToken();
const SECRET = 'node-admin-secret';
const ROOM = 2222;

/**
 * Issue 19 end to end: a box enrolled in a fleet with two media nodes (real Janus servers, each in its
 * own network namespace) is live on its class's node; that node is killed; the fleet moves the class and
 * the box, asking the fleet where its class is now, is live again on the other node within 10 s, saying
 * so on screen; the teacher joining there sees it.
 */
describe('a class whose media node dies', () => {
  const janus: JanusServer[] = [];
  let server: RunningFleetServer;
  let site: Awaited<ReturnType<typeof startTeacherServer>>;
  let dir: string;
  let box: TestBox | undefined;
  const closers: (() => Promise<void>)[] = [];

  const admin = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}/api/v1/admin${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, json: (await response.json()) as any };
  };

  const placedNodeIdOf = (j: JanusServer) => `node-${janus.indexOf(j)}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-failover-'));
    for (let i = 0; i < 2; i++) {
      const j = new JanusServer({
        rooms: [],
        wsPort: await freePort(),
        admin: { port: await freePort(), secret: SECRET },
      });
      janus.push(j);
      await j.start();
    }
    server = await startFleetServer({
      db: join(dir, 'fleet.db'),
      port: 0,
      host: '127.0.0.1',
      firstAdminToken: ADMIN,
    });
    site = await startTeacherServer(0, { fleet: { url: server.url, adminToken: ADMIN } });
    for (const [i, j] of janus.entries()) {
      const res = await admin('POST', '/media-nodes', {
        id: `node-${i}`,
        wsUrl: j.url,
        adminUrl: j.adminUrl,
        adminSecret: SECRET,
        region: '江西',
        capacity: 10,
      });
      expect(res.status).toBe(201);
    }
    await waitFor(
      async () =>
        (await admin('GET', '/media-nodes')).json.every((n: { status: string }) => n.status === 'up'),
      10_000,
      'both nodes up',
    );
    const centre = await admin('POST', '/centres', {
      id: 'jx-ruijin',
      name: BOX_NAME,
      region: '江西',
      room: { janusUrl: 'ws://unused.example.cn:8188', room: ROOM, bitrateKbps: 1024 },
    });
    expect(centre.status).toBe(201);
    await waitFor(
      async () => (await admin('GET', '/classes/jx-ruijin/placement')).status === 200,
      10_000,
      'the class placed',
    );
  }, 90_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await box?.stop();
    await site?.close();
    await server?.stop();
    for (const j of janus) await j.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is live again on the other node within 10 s of its node dying, and says so on screen', async () => {
    const minted = await admin('POST', '/centres/jx-ruijin/enrolment-tokens', {
      count: 1,
      expiresInSeconds: 3600,
      displayNames: [BOX_NAME],
    });
    const seedFile = join(dir, 'classbox-enrol.json');
    writeFileSync(seedFile, JSON.stringify(minted.json.tokens[0].seed));
    box = await startBox({
      fleet: { url: server.url, enrolmentFile: seedFile },
      stateDir: join(dir, 'state'),
      janus: { connectTimeoutMs: 1000 },
      session: { endHoldMs: 500 },
    });
    const placed = (await admin('GET', '/classes/jx-ruijin/placement')).json;
    const first = janus.find((j) => j.url === placed.node.wsUrl)!;
    const other = janus.find((j) => j !== first)!;
    await waitFor(
      async () => (await box!.status()).health.server?.status === 'ok',
      30_000,
      'the box on its node',
    );
    await box.press('class');
    await box.waitForState('live', 20_000);
    // The teacher's page finds the class through the fleet too, and follows it when it moves.
    const teacher = await launchParticipant();
    closers.push(teacher.close);
    const page = await joinAsTeacher(teacher.browser, site.url, {
      classId: 'jx-ruijin',
      display: '王老师 Teacher Wang',
    });
    await teacherDecodesBox(page);

    // Every notice the kiosk shows, kept: the move's can be on screen for less than a poll's interval.
    await kioskOf(box).evaluate(`(() => {
      const notice = document.getElementById('notice');
      window.seenNotices = [];
      new MutationObserver(() => window.seenNotices.push(notice.innerText)).observe(notice, {
        subtree: true, childList: true, characterData: true,
      });
      return true;
    })()`);
    const killedAt = Date.now();
    await first.stopProcess('SIGKILL');
    // Live after the move was shown: the box lost its class and found it again (it was live before).
    const moved = async () =>
      (await kioskOf(box!).evaluate<string[]>('window.seenNotices'))
        .join('\n')
        .includes('正在转到备用服务器');
    await waitFor(
      async () => (await moved()) && (await box!.status()).state === 'live',
      10_000,
      'the box live again after the move',
      50,
    );
    const seconds = (Date.now() - killedAt) / 1000;
    console.log(`live again on the other node ${seconds.toFixed(2)} s after its node died`);
    expect(seconds).toBeLessThanOrEqual(10);
    const notices = (await kioskOf(box).evaluate<string[]>('window.seenNotices')).join('\n');
    expect(notices).toContain('moving the class to a standby server');
    expect((await admin('GET', '/classes/jx-ruijin/placement')).json.node.wsUrl).toBe(other.url);

    // The teacher is back in the class on the other node, and sees the box again.
    await waitFor(
      async () => (await page.evaluate('window.teacher.state.node')) === placedNodeIdOf(other),
      15_000,
      "the teacher's page on the other node",
    );
    await teacherDecodesBox(page);
  }, 120_000);
});
