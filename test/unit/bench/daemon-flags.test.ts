import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { daemonNodeFlags } from '../../../bench/lib/unit.js';

// Allocates like the daemon's module loading (many objects that survive), then reports V8's young generation.
const GROW_YOUNG_GENERATION = `
const keep = [];
for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 3 === 0) keep.push(o); }
const young = require('node:v8').getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
process.stdout.write(String(young.space_size / 1048576));
`;

describe('the daemon as systemd starts it', () => {
  it('caps V8 young generation, which otherwise holds ~20 MB of the idle daemon resident (issue 17)', () => {
    const flags = daemonNodeFlags();
    const run = (args: string[]): number => {
      const out = spawnSync(process.execPath, [...args, '-e', GROW_YOUNG_GENERATION], { encoding: 'utf8' });
      expect(out.stderr).toBe('');
      return Number(out.stdout);
    };
    // Without the unit's flags the same allocations grow it to V8's default maximum (2 × 16 MB).
    expect(run([])).toBeGreaterThan(16);
    expect(run(flags)).toBeLessThanOrEqual(4);
  });

  it("reads the unit's Node.js flags, and refuses an ExecStart= it does not understand", () => {
    const unit = (exec: string): string => `[Service]\nType=notify\n${exec}\n`;
    expect(
      daemonNodeFlags(
        unit('ExecStart=/opt/classbox/node/bin/node --a=1 --b /opt/x/bin/classbox.js device --config f'),
      ),
    ).toEqual(['--a=1', '--b']);
    expect(daemonNodeFlags(unit('ExecStart=/usr/bin/node /opt/x/bin/classbox.js device'))).toEqual([]);
    expect(() => daemonNodeFlags('[Service]\nType=notify\n')).toThrow(/no ExecStart= line/);
    expect(() => daemonNodeFlags(unit('ExecStart=/usr/bin/env node /x/bin/classbox.js'))).toThrow(
      /does not run node/,
    );
    expect(() => daemonNodeFlags(unit('ExecStart=/usr/bin/node -r x /x/bin/classbox.js'))).toThrow(
      /not a Node.js flag: -r/,
    );
  });
});
