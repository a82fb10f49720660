import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The kiosk page: plain TypeScript, no framework, built to dist/kiosk-page and served by the daemon.
export default defineConfig({
  root: here,
  base: './',
  build: {
    outDir: fileURLToPath(new URL('../../dist/kiosk-page', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
});
