import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // NestJS needs decorator metadata, which esbuild/oxc do not emit; swc does.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: {
    include: ['test/**/*.test.ts'],
    // The VM system test boots the disk image for minutes: its own config (vitest.system.config.ts).
    exclude: ['test/system/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests start Janus and Chromium; on 2 cores, run files one at a time.
    fileParallelism: false,
    reporters: ['default'],
  },
});
