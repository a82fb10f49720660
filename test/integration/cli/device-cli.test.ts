import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';

let dir: string;
const good = {
  device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
  janus: { url: 'ws://127.0.0.1:1', room: 2222 },
};

async function configFile(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function expectCleanFailure(result: { code: number | null; stderr: string }, ...fragments: string[]): void {
  expect(result.code).toBe(2);
  for (const f of fragments) expect(result.stderr).toContain(f);
  // A tutor's IT person reads this: no stack trace, ever.
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
}

describe('classbox device with bad config, through the real CLI', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'classbox-cli-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names a missing file', async () => {
    const missing = join(dir, 'nope.json');
    expectCleanFailure(
      await runCli(['device', '--config', missing]),
      `can't read config file ${missing}: no such file`,
    );
  });

  it('names a file that is not JSON', async () => {
    const file = await configFile('broken.json', '{ "device": { "id": ');
    expectCleanFailure(await runCli(['device', '--config', file]), `${file} is not valid JSON`);
  });

  it('says janus.url is required', async () => {
    const file = await configFile('nourl.json', { device: good.device, janus: { room: 2222 } });
    const result = await runCli(['device', '--config', file]);
    expectCleanFailure(result, 'janus.url: required');
    expect(result.stderr.trim().split('\n')).toHaveLength(2);
  });

  it('says janus.room must be a number', async () => {
    const file = await configFile('room.json', { ...good, janus: { ...good.janus, room: 'twenty-two' } });
    expectCleanFailure(await runCli(['device', '--config', file]), 'janus.room:', 'number');
  });

  it('says which hardware modes exist', async () => {
    const file = await configFile('mode.json', { ...good, hardware: { mode: 'laptop' } });
    expectCleanFailure(await runCli(['device', '--config', file]), 'hardware.mode:', '"pi"', '"sim"');
  });

  it('says the port range', async () => {
    const file = await configFile('port.json', { ...good, control: { port: 99999 } });
    expectCleanFailure(await runCli(['device', '--config', file]), 'control.port:', '65535');
  });

  it('lists every bad field at once, one line each', async () => {
    const file = await configFile('many.json', { device: { id: 'X' }, janus: { url: 'http://x', room: -1 } });
    const result = await runCli(['device', '--config', file]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n').slice(1);
    expect(lines.map((l) => l.trim().split(':')[0])).toEqual([
      'device.id',
      'device.displayName',
      'janus.url',
      'janus.room',
    ]);
  });

  it('takes the file from CLASSBOX_CONFIG and says so when neither is given', async () => {
    expectCleanFailure(
      await runCli(['device'], { CLASSBOX_CONFIG: '' }),
      'pass --config FILE or set CLASSBOX_CONFIG',
    );
    const file = await configFile('env.json', {
      ...good,
      janus: { ...good.janus, token: 'secret-token', apiSecret: 'api-s3cret', pin: '9876' },
    });
    const printed = await runCli(['device', '--print-config'], { CLASSBOX_CONFIG: file });
    expect(printed.code).toBe(0);
    const effective = JSON.parse(printed.stdout) as {
      janus: Record<string, unknown>;
      session: { endHoldMs: number };
    };
    expect(effective.session.endHoldMs).toBe(2000);
    expect(effective.janus.token).toBe('<redacted>');
    expect(printed.stdout).not.toMatch(/secret-token|api-s3cret|9876/);
  });

  it('prints help and version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('device');
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect((await runCli(['no-such-command'])).code).toBe(2);
  });
});
