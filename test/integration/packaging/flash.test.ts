import { createServer, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentSeedSchema } from '../../../common/fleet-protocol.js';
import { startFleetServer, type RunningFleetServer } from '../../../provisioning/fleet-server.js';
import {
  BOOT_OFFSET,
  BOOT_SIZE,
  buildCardImage,
  buildFlashHelper,
  fakeSystem,
  FLASH,
  MIB,
  readBootFile,
  run,
  runAsync,
} from './packaging-helpers.js';
import { generateAdminToken } from '../../../provisioning/services/admin-auth.service.js';

const FUTURE = new Date(Date.now() + 7 * 86_400_000).toISOString();
const SEED = {
  fleetUrl: 'https://fleet.example.cn',
  token: 'tok-5f1c2a9e7b3d4c68',
  deviceId: 'jx-ruijin-01',
  centreId: 'jx-ruijin',
  displayName: '瑞金教学点',
  expiresAt: FUTURE,
};

let dir: string;
let image: string;

beforeAll(() => {
  buildFlashHelper();
  dir = mkdtempSync(join(tmpdir(), 'classbox-flash-test-'));
  image = buildCardImage(dir);
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function seedFile(name: string, seed: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(seed));
  return file;
}

describe('provisioning/flash to an image file', () => {
  it('refuses a seed with an http:// fleet URL to another host unless --allow-insecure-http (issue 13)', () => {
    const insecure = seedFile('insecure.json', { ...SEED, fleetUrl: 'http://10.0.2.2:8490' });
    const out = join(dir, 'out-insecure.img');
    const refused = run(FLASH, ['--image', image, '--target', out, '--seed', insecure]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(
      /fleetUrl: an http:\/\/ fleet URL is allowed only to a loopback host.*allowInsecureHttp/,
    );
    expect(existsSync(out)).toBe(false);
    const allowed = run(FLASH, [
      '--image',
      image,
      '--target',
      out,
      '--seed',
      insecure,
      '--allow-insecure-http',
    ]);
    expect(allowed.status).toBe(0);
    expect(JSON.parse(readBootFile(out, 'classbox-enrol.json'))).toEqual({
      ...SEED,
      fleetUrl: 'http://10.0.2.2:8490',
      allowInsecureHttp: true,
    });
  });

  it('writes the image, puts the seed on the boot partition, and the seed reads back', () => {
    const out = join(dir, 'out-token.img');
    const result = run(FLASH, [
      '--image',
      image,
      '--target',
      out,
      '--token',
      SEED.token,
      '--fleet-url',
      SEED.fleetUrl,
      '--device-id',
      SEED.deviceId,
      '--centre-id',
      SEED.centreId,
      '--display-name',
      SEED.displayName,
      '--expires-at',
      SEED.expiresAt,
    ]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Verified image');
    expect(JSON.parse(readBootFile(out, 'classbox-enrol.json'))).toEqual(SEED);
    // The rest of the card is the image, byte for byte: the boot files and the root partition.
    expect(readBootFile(out, 'config.txt')).toBe(readBootFile(image, 'config.txt'));
    expect(statSync(out).size).toBe(statSync(image).size);
    const original = readFileSync(image);
    const flashed = readFileSync(out);
    expect(flashed.subarray(0, BOOT_OFFSET).equals(original.subarray(0, BOOT_OFFSET))).toBe(true);
    expect(flashed.subarray(BOOT_OFFSET + BOOT_SIZE).equals(original.subarray(BOOT_OFFSET + BOOT_SIZE))).toBe(
      true,
    );
  });

  it('takes a seed file as the fleet server wrote it, and replaces an older seed on a reflash', () => {
    const out = join(dir, 'out-seed.img');
    const first = run(FLASH, ['--image', image, '--target', out, '--seed', seedFile('a.json', SEED)]);
    expect(first.status).toBe(0);
    const second = { ...SEED, token: 'tok-second-0123456789', deviceId: 'jx-ruijin-02' };
    const again = run(FLASH, [
      '--image',
      out,
      '--target',
      join(dir, 'out-seed2.img'),
      '--seed',
      seedFile('b.json', second),
    ]);
    expect(again.stderr).toBe('');
    expect(JSON.parse(readBootFile(join(dir, 'out-seed2.img'), 'classbox-enrol.json'))).toEqual(second);
  });

  it('flashes a compressed image', () => {
    const xz = run('xz', ['-k', '-T1', '-f', image]);
    expect(xz.status).toBe(0);
    const out = join(dir, 'out-xz.img');
    const result = run(FLASH, [
      '--image',
      `${image}.xz`,
      '--target',
      out,
      '--seed',
      seedFile('c.json', SEED),
    ]);
    expect(result.stderr).toBe('');
    expect(JSON.parse(readBootFile(out, 'classbox-enrol.json')).deviceId).toBe(SEED.deviceId);
  });

  it('refuses a bad seed before touching the target, naming each bad field', () => {
    const out = join(dir, 'untouched.img');
    const result = run(FLASH, [
      '--image',
      image,
      '--target',
      out,
      '--seed',
      seedFile('bad.json', { ...SEED, deviceId: 'JX Ruijin', fleetUrl: 'ftp://x', extra: 1 }),
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('deviceId: expected lower-case letters');
    expect(result.stderr).toContain('fleetUrl: expected an http:// or https:// URL');
    expect(result.stderr).toContain('extra');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an expired token', () => {
    const result = run(FLASH, [
      '--image',
      image,
      '--target',
      join(dir, 'expired.img'),
      '--seed',
      seedFile('old.json', { ...SEED, expiresAt: '2020-01-01T00:00:00Z' }),
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('expired');
  });

  it('says which values are missing without --seed', () => {
    const result = run(FLASH, ['--image', image, '--target', join(dir, 'x.img'), '--token', 'tok-123456789']);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--fleet-url is required');
    expect(result.stderr).toContain('--device-id is required');
  });

  it('refuses an image without a FAT boot partition after writing it', () => {
    const blank = join(dir, 'blank.img');
    writeFileSync(blank, Buffer.alloc(MIB));
    const result = run(FLASH, [
      '--image',
      blank,
      '--target',
      join(dir, 'blank-out.img'),
      '--seed',
      seedFile('d.json', SEED),
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('no partition table');
  });
});

describe('provisioning/flash refusals on (loop-free) fake block devices', () => {
  const sectorsOf = (gb: number) => Math.round((gb * 1e9) / 512);

  function fake(
    name: string,
    disks: Parameters<typeof fakeSystem>[1],
    mounts: string[] = [],
    swaps: string[] = [],
  ) {
    return fakeSystem(mkdtempSync(join(dir, `${name}-`)), disks, mounts, swaps);
  }

  function flashTo(target: string, env: Record<string, string>, extra: string[] = ['--yes']) {
    return run(
      FLASH,
      ['--image', image, '--target', target, '--seed', seedFile('dev.json', SEED), ...extra],
      env,
    );
  }

  it('flashes a card reader that passes every check', () => {
    const sys = fake('ok', { sdz: { sizeSectors: sectorsOf(32), partitions: ['sdz1', 'sdz2'] } }, [
      '/dev/vda1 / ext4 rw 0 0',
    ]);
    const result = flashTo(join(sys.dev, 'sdz'), sys.env);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(JSON.parse(readBootFile(join(sys.dev, 'sdz'), 'classbox-enrol.json'))).toEqual(SEED);
  });

  it('refuses a disk with a mounted partition, saying where', () => {
    const sys = fake('mounted', { sdz: { sizeSectors: sectorsOf(32), partitions: ['sdz1', 'sdz2'] } }, [
      '/dev/vda1 / ext4 rw 0 0',
      '/dev/sdz1 /media/it/bootfs vfat rw 0 0',
    ]);
    const result = flashTo(join(sys.dev, 'sdz'), sys.env);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('/dev/sdz1 on /media/it/bootfs');
    expect(statSync(join(sys.dev, 'sdz')).size).toBe(0);
  });

  it('refuses a disk file attached to a loop device, and flashes it once detached', () => {
    const sys = fake('loop', { sdz: { sizeSectors: sectorsOf(32) } }, ['/dev/vda1 / ext4 rw 0 0']);
    const target = join(dir, 'vm-disk.img');
    writeFileSync(target, '');
    const sysDir = sys.env.CLASSBOX_FLASH_SYS!;
    mkdirSync(join(sysDir, 'block', 'loop3', 'loop'), { recursive: true });
    writeFileSync(join(sysDir, 'block', 'loop3', 'loop', 'backing_file'), `${target}\n`);
    const refused = flashTo(target, sys.env);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('attached as /dev/loop3');
    expect(statSync(target).size).toBe(0);
    rmSync(join(sysDir, 'block', 'loop3'), { recursive: true });
    const flashed = flashTo(target, sys.env);
    expect(flashed.stderr).toBe('');
    expect(flashed.status).toBe(0);
    expect(JSON.parse(readBootFile(target, 'classbox-enrol.json'))).toEqual(SEED);
  });

  it('refuses a disk used as swap or held by device-mapper', () => {
    const swap = fake(
      'swap',
      { sdz: { sizeSectors: sectorsOf(32), partitions: ['sdz1'] } },
      [],
      ['/dev/sdz1 partition 1024 0 -2'],
    );
    expect(flashTo(join(swap.dev, 'sdz'), swap.env).stderr).toContain('/dev/sdz1 as swap');
    const held = fake('held', { sdz: { sizeSectors: sectorsOf(32), holders: ['dm-0'] } });
    const result = flashTo(join(held.dev, 'sdz'), held.env);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('held by dm-0');
  });

  it('refuses the system disk even when named through a symlink', () => {
    const sys = fake(
      'system',
      { nvme0n1: { sizeSectors: sectorsOf(128), partitions: ['nvme0n1p1', 'nvme0n1p2'] } },
      ['/dev/nvme0n1p2 / ext4 rw 0 0'],
    );
    const result = flashTo(join(sys.dev, '..', 'by-id-link'), sys.env);
    expect(result.status).toBe(3);
    expect(result.stderr).toContain('system disk');
  });

  it('refuses a disk larger than a card unless --force-size', () => {
    const sys = fake('large', { sdz: { sizeSectors: sectorsOf(1000), partitions: ['sdz1'] } });
    const refused = flashTo(join(sys.dev, 'sdz'), sys.env);
    expect(refused.status).toBe(3);
    expect(refused.stderr).toContain('1000 GB, more than a card would (256 GB)');
    const forced = flashTo(join(sys.dev, 'sdz'), sys.env, ['--yes', '--force-size']);
    expect(forced.stderr).toBe('');
    expect(forced.status).toBe(0);
  });

  it('accepts a 256 GB card, whose real size is a little under 256e9 bytes', () => {
    const sys = fake('card256', { sdz: { sizeSectors: 499_744_768 } });
    expect(flashTo(join(sys.dev, 'sdz'), sys.env).status).toBe(0);
  });

  it('refuses a partition, an empty reader, and an unconfirmed write', () => {
    const sys = fake('misc', {
      sdz: { sizeSectors: sectorsOf(32), partitions: ['sdz1'] },
      sdy: { sizeSectors: 0 },
    });
    const partition = flashTo(join(sys.dev, 'sdz1'), sys.env);
    expect(partition.status).toBe(3);
    expect(partition.stderr).toContain('not a whole disk');
    const empty = flashTo(join(sys.dev, 'sdy'), sys.env);
    expect(empty.status).toBe(3);
    expect(empty.stderr).toContain('no medium');
    const unconfirmed = flashTo(join(sys.dev, 'sdz'), sys.env, []);
    expect(unconfirmed.status).toBe(3);
    expect(unconfirmed.stderr).toContain('without --yes');
    expect(statSync(join(sys.dev, 'sdz')).size).toBe(0);
  });
});

/**
 * Batch mode against a stand-in that implements only the minting endpoint
 * (POST /api/v1/admin/centres/{centreId}/enrolment-tokens), to see exactly what the tool sends and
 * how it reports each refusal; the real fleet server is the next describe.
 */
describe('provisioning/flash --csv (batch minting)', () => {
  const ADMIN = 'admin-secret-token-0001';
  let server: Server;
  let fleetUrl: string;
  const requests: { centreId: string; body: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const match = /^\/api\/v1\/admin\/centres\/([^/]+)\/enrolment-tokens$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !match) {
        res.writeHead(404).end();
        return;
      }
      if (req.headers.authorization !== `Bearer ${ADMIN}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"bad credential"}');
        return;
      }
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        const body = JSON.parse(text) as {
          count: number;
          expiresInSeconds: number;
          deviceIds: string[];
          displayNames: string[];
        };
        const centreId = decodeURIComponent(match[1]!);
        requests.push({ centreId, body });
        const expiresAt = new Date(Date.now() + body.expiresInSeconds * 1000).toISOString();
        const tokens = body.deviceIds.map((deviceId, i) => {
          const token = `tok-${centreId}-${deviceId}-${i}`;
          return {
            deviceId,
            token,
            expiresAt,
            seed: { fleetUrl, token, deviceId, centreId, displayName: body.displayNames[i], expiresAt },
          };
        });
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ tokens }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    fleetUrl = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('mints a token per box, one request per centre, writes the seeds and prints the label sheet', async () => {
    const out = join(dir, 'batch');
    const tokenFile = join(dir, 'admin-token');
    writeFileSync(tokenFile, `${ADMIN}\n`);
    const result = await runAsync(FLASH, [
      '--csv',
      join(import.meta.dirname, '..', '..', 'fixtures', 'packaging', 'centres.csv'),
      '--fleet-url',
      fleetUrl,
      '--admin-token-file',
      tokenFile,
      '--out',
      out,
      '--expires-in',
      // The same rules as `fleet token create --expires` (issue 20: `2w` used to fail here).
      '2w',
    ]);
    expect(result.stderr).not.toContain(ADMIN);
    expect(result.status).toBe(0);
    expect(requests.map((r) => r.centreId)).toEqual(['jx-ruijin', 'jx-yudu']);
    expect(requests[0]!.body).toEqual({
      count: 2,
      expiresInSeconds: 14 * 86_400,
      deviceIds: ['jx-ruijin-01', 'jx-ruijin-02'],
      displayNames: ['瑞金教学点 一号', '瑞金教学点 二号'],
    });
    const seed = JSON.parse(readFileSync(join(out, 'seeds', 'jx-yudu-01.json'), 'utf8'));
    expect(seed).toMatchObject({
      deviceId: 'jx-yudu-01',
      centreId: 'jx-yudu',
      displayName: '于都, "红军" 教学点',
      fleetUrl,
    });
    expect(statSync(join(out, 'seeds', 'jx-yudu-01.json')).mode & 0o777).toBe(0o600);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^box id\s+centre\s+name in the room\s+enrol before$/);
    expect(lines.slice(2).map((l) => l.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['jx-ruijin-01', '瑞金市 (jx-ruijin)'],
      ['jx-ruijin-02', '瑞金市 (jx-ruijin)'],
      ['jx-yudu-01', 'jx-yudu'],
    ]);
    expect(readFileSync(join(out, 'labels.html'), 'utf8')).toContain('于都, &#34;红军&#34; 教学点');

    // A minted seed flashes as is.
    const card = join(dir, 'batch-card.img');
    const flashed = run(FLASH, [
      '--image',
      image,
      '--target',
      card,
      '--seed',
      join(out, 'seeds', 'jx-ruijin-02.json'),
    ]);
    expect(flashed.status).toBe(0);
    expect(JSON.parse(readBootFile(card, 'classbox-enrol.json')).token).toBe('tok-jx-ruijin-jx-ruijin-02-1');
  });

  it('reports a refused admin token without printing it', async () => {
    const tokenFile = join(dir, 'wrong-token');
    writeFileSync(tokenFile, 'wrong-admin-token\n');
    const result = await runAsync(FLASH, [
      '--csv',
      join(import.meta.dirname, '..', '..', 'fixtures', 'packaging', 'centres.csv'),
      '--fleet-url',
      fleetUrl,
      '--admin-token-file',
      tokenFile,
      '--out',
      join(dir, 'batch-refused'),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('refused the admin token (HTTP 401)');
    expect(result.stderr).not.toContain('wrong-admin-token');
    expect(existsSync(join(dir, 'batch-refused', 'seeds'))).toBe(false);
  });

  it('reports every bad CSV line before minting anything', async () => {
    const csv = join(dir, 'bad.csv');
    writeFileSync(
      csv,
      'centre_id,device_id,display_name\njx-ruijin,Bad Id,名字\njx-ruijin,jx-ok-01\njx-ruijin,jx-ok-02,二号\njx-ruijin,jx-ok-02,重复\n',
    );
    const tokenFile = join(dir, 'admin-token');
    const before = requests.length;
    const result = await runAsync(FLASH, [
      '--csv',
      csv,
      '--fleet-url',
      fleetUrl,
      '--admin-token-file',
      tokenFile,
      '--out',
      join(dir, 'bad-out'),
    ]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('line 2: deviceId: expected lower-case letters');
    expect(result.stderr).toContain('line 3: expected 3 fields, found 2');
    expect(result.stderr).toContain('line 5: device_id "jx-ok-02" is already on line 4');
    expect(requests.length).toBe(before);
  });
});

/** The same batch against the real fleet server (SQLite), then the first-boot enrolment with a flashed seed. */
describe('provisioning/flash --csv against the real fleet server', () => {
  const ADMIN = generateAdminToken();
  let server: RunningFleetServer;
  let tokenFile: string;

  beforeAll(async () => {
    server = await startFleetServer({
      db: join(dir, 'fleet.db'),
      port: 0,
      host: '127.0.0.1',
      firstAdminToken: ADMIN,
      enrolPerMinute: 1000,
    });
    for (const id of ['jx-ruijin', 'jx-yudu']) {
      const res = await fetch(`${server.url}/api/v1/admin/centres`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          name: `${id} 教学点`,
          region: '江西',
          room: { janusUrl: 'ws://janus.example.cn:8188', room: 1234 },
        }),
      });
      expect(res.status).toBe(201);
    }
    tokenFile = join(dir, 'real-admin-token');
    writeFileSync(tokenFile, ADMIN);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('mints seeds the server accepts: flashed, read back, enrolled once, refused the second time', async () => {
    const out = join(dir, 'real-batch');
    const csv = join(import.meta.dirname, '..', '..', 'fixtures', 'packaging', 'centres.csv');
    const batch = await runAsync(FLASH, [
      '--csv',
      csv,
      '--fleet-url',
      server.url,
      '--admin-token-file',
      tokenFile,
      '--out',
      out,
    ]);
    expect(batch.status, batch.stderr).toBe(0);
    expect(batch.stdout).toContain('jx-yudu-01');

    const seed = enrolmentSeedSchema.parse(
      JSON.parse(readFileSync(join(out, 'seeds', 'jx-ruijin-01.json'), 'utf8')),
    );
    const card = join(dir, 'real-card.img');
    const flashed = await runAsync(FLASH, [
      '--image',
      image,
      '--target',
      card,
      '--seed',
      join(out, 'seeds', 'jx-ruijin-01.json'),
    ]);
    expect(flashed.status, flashed.stderr).toBe(0);
    const onCard = enrolmentSeedSchema.parse(JSON.parse(readBootFile(card, 'classbox-enrol.json')));
    expect(onCard).toEqual(seed);

    const publicKey = generateKeyPairSync('ed25519')
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    const enrol = () =>
      fetch(`${onCard.fleetUrl}/api/v1/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: onCard.token, publicKey }),
      });
    const first = await enrol();
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({
      deviceId: 'jx-ruijin-01',
      centreId: 'jx-ruijin',
      displayName: '瑞金教学点 一号',
    });
    expect((await enrol()).status).toBeGreaterThanOrEqual(400);
  });

  it("names the server's own reason when a centre does not exist", async () => {
    const csv = join(dir, 'unknown-centre.csv');
    writeFileSync(csv, 'centre_id,device_id,display_name\nnowhere,nowhere-01,无\n');
    const result = await runAsync(FLASH, [
      '--csv',
      csv,
      '--fleet-url',
      server.url,
      '--admin-token-file',
      tokenFile,
      '--out',
      join(dir, 'nowhere'),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('HTTP 404 for centre nowhere: no centre with id "nowhere" [E-NOT-FOUND]');
  });
});
