import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.js';

/**
 * Issue 17: the CLI runs from its bundle (cli/rolldown.config.mjs), not from tsc's ~1,450-file module
 * graph whose loading was most of the daemon's start. A module hook records every ES module the real
 * CLI loads.
 */
describe('the classbox CLI as built', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'classbox-bundle-'));
    await writeFile(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.CLASSBOX_TEST_MODULE_LOG, url + '\\n');
  return next(url, context);
}
`,
    );
    await writeFile(
      join(dir, 'register.mjs'),
      `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`,
    );
    await writeFile(
      join(dir, 'device.json'),
      JSON.stringify({
        device: { id: 'jx-ruijin-01', displayName: '瑞金教学点' },
        janus: { url: 'ws://127.0.0.1:1', room: 2222 },
      }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the box's commands from the bundle, none of tsc's module files", async () => {
    const log = join(dir, 'modules.log');
    const result = await runCli(['device', '--config', join(dir, 'device.json'), '--print-config'], {
      NODE_OPTIONS: `--import ${pathToFileURL(join(dir, 'register.mjs')).href}`,
      CLASSBOX_TEST_MODULE_LOG: log,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ device: { id: 'jx-ruijin-01' } });
    const ours = (await readFile(log, 'utf8'))
      .split('\n')
      .filter((url) => url.startsWith(pathToFileURL(join(process.cwd(), 'dist')).href));
    expect(ours.some((url) => url.includes('/dist/bundle/'))).toBe(true);
    expect(ours.filter((url) => !url.includes('/dist/bundle/'))).toEqual([]);
  });
});
