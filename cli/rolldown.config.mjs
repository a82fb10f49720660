/**
 * The CLI as one bundle (dist/bundle/, what bin/classbox.js runs), built from tsc's output in dist/ (which
 * carries the decorator metadata Nest needs). Issue 17: the daemon loaded ~1,450 module files at start,
 * and finding, reading and compiling them one by one was most of its CPU to READY=1 (1.3 s of CPU here;
 * the bundle: 0.4 s). Each command's code stays its own chunk, loaded only when that command runs.
 */

/**
 * Left to node_modules: native addons and the `bindings` loader that finds them beside their
 * package.json, the drivers the fleet server opens, and the optional packages Nest probes for and
 * does without.
 */
const EXTERNAL = [
  'bindings',
  'unix-dgram',
  'epoll',
  'onoff',
  'node-libcamera',
  'better-sqlite3',
  'pg',
  'pg-native',
  'bufferutil',
  'utf-8-validate',
  'class-validator',
  'class-transformer',
  '@fastify/view',
  '@nestjs/platform-express',
  '@nestjs/microservices',
  '@nestjs/websockets',
  'reflect-metadata',
];

export default {
  input: 'dist/cli/classbox.js',
  platform: 'node',
  external: (id) => EXTERNAL.some((name) => id === name || id.startsWith(`${name}/`)),
  output: {
    dir: 'dist/bundle',
    format: 'esm',
    // Logs name their class (`ctx`), and Nest reports providers by class name.
    keepNames: true,
    // Every chunk: the decorator metadata API before any decorated class is defined (chunks may run
    // before the module that imported 'reflect-metadata' first), and the CommonJS names that bundled
    // CommonJS packages (pino, Fastify's plugins) still use.
    banner: [
      "import 'reflect-metadata';",
      "import { createRequire as __classboxRequire } from 'node:module';",
      "import { fileURLToPath as __classboxPath } from 'node:url';",
      'const require = __classboxRequire(import.meta.url);',
      'const __filename = __classboxPath(import.meta.url);',
      "const __dirname = __classboxPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
};
