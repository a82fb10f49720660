import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { releaseManifestSchema } from '../../../common/release-manifest.js';
import { buildRelease, sha256File } from '../../../provisioning/adapters/release-bundle.fs.js';

/** `release build` from a built checkout: the app and its production dependencies, no dev tools. */
describe('building a release', () => {
  let dir: string;
  let app: string;

  const pkg = (at: string, name: string, deps: Record<string, string> = {}, extra: object = {}) => {
    mkdirSync(at, { recursive: true });
    writeFileSync(
      join(at, 'package.json'),
      JSON.stringify({ name, version: '1.0.0', dependencies: deps, ...extra }),
    );
    writeFileSync(join(at, 'index.js'), `module.exports = ${JSON.stringify(name)};\n`);
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'classbox-build-'));
    app = join(dir, 'app');
    pkg(app, 'classbox', { zod: '^4', tar: '^7' }, { devDependencies: { vitest: '^4' } });
    mkdirSync(join(app, 'bin'));
    writeFileSync(join(app, 'bin', 'classbox.js'), 'import "../dist/cli/classbox.js";\n');
    mkdirSync(join(app, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(app, 'dist', 'cli', 'classbox.js'), 'export {};\n');
    pkg(join(app, 'node_modules', 'zod'), 'zod');
    pkg(join(app, 'node_modules', 'tar'), 'tar', { minipass: '^7', chownr: '^3' });
    pkg(join(app, 'node_modules', 'minipass'), 'minipass');
    // A second copy nested under its dependent, as npm does when versions clash.
    pkg(join(app, 'node_modules', 'tar', 'node_modules', 'chownr'), 'chownr');
    pkg(join(app, 'node_modules', 'chownr'), 'chownr');
    pkg(join(app, 'node_modules', 'vitest'), 'vitest', { vite: '^8' });
    pkg(join(app, 'node_modules', 'vite'), 'vite');
    mkdirSync(join(app, 'test'));
    writeFileSync(join(app, 'test', 'secret.test.ts'), '');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('packs bin, dist, package.json and the production closure, and describes it exactly', async () => {
    const built = await buildRelease({
      appDir: app,
      outDir: join(dir, 'out'),
      version: '1.4.0',
      arch: 'arm64',
      nodeAbi: 137,
      minOsVersion: '12',
      now: new Date('2026-11-29T10:00:00Z'),
    });
    const entries: string[] = [];
    await tar.t({
      file: built.payloadFile,
      onReadEntry: (entry) => void entries.push(entry.path.replace(/\/$/, '')),
    });
    expect(entries).toEqual(
      expect.arrayContaining([
        'bin/classbox.js',
        'dist/cli/classbox.js',
        'package.json',
        'node_modules/zod/index.js',
        'node_modules/tar/index.js',
        'node_modules/tar/node_modules/chownr/index.js',
        'node_modules/minipass/index.js',
      ]),
    );
    expect(entries.filter((e) => /vitest|vite\/|^test\/|^node_modules\/chownr/.test(e))).toEqual([]);

    const manifest = releaseManifestSchema.parse(JSON.parse(readFileSync(built.manifestFile, 'utf8')));
    expect(manifest).toMatchObject({ version: '1.4.0', arch: 'arm64', nodeAbi: 137, minOsVersion: '12' });
    expect(manifest.payload.sha256).toBe(await sha256File(built.payloadFile));
    expect(manifest.payload.size).toBe(readFileSync(built.payloadFile).length);
  });
});
