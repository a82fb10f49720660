import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../common/package-root.js';

/** Every .ts file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.tsx?$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

describe('layering', () => {
  it('keeps the fleet server and IT tools free of the box: provisioning/ imports nothing from device/', () => {
    const root = packageRoot();
    const offending = sources(join(root, 'provisioning')).filter((file) =>
      /from '(\.\.\/)+device\//.test(readFileSync(file, 'utf8')),
    );
    expect(offending.map((f) => relative(root, f))).toEqual([]);
  });
});
