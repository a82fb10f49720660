import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

/**
 * The system test (issue 14): the box's disk image booted in QEMU under TCG. Minutes, not seconds,
 * so it is kept out of `vitest run` and has its own timeouts; `npm run test:system` runs it.
 */
export default defineConfig({
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/system/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 600_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
