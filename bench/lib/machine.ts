import { execFile } from 'node:child_process';
import { cpus, release, totalmem, freemem, arch, platform, loadavg, hostname } from 'node:os';
import { promisify } from 'node:util';
import { CHROMIUM } from '../../test/helpers/browser.js';

const run = promisify(execFile);

export interface MachineDescription {
  readonly hostname: string;
  readonly platform: string;
  readonly arch: string;
  readonly kernel: string;
  readonly cpus: { model: string; speedMHz: number }[];
  readonly memoryTotalMB: number;
  readonly memoryFreeMB: number;
  readonly loadAverage: number[];
  readonly node: string;
  readonly chromium: string;
  readonly janus: string;
}

/** What the figures were measured on: they mean little without it. */
export async function describeMachine(): Promise<MachineDescription> {
  return {
    hostname: hostname(),
    platform: platform(),
    arch: arch(),
    kernel: release(),
    cpus: cpus().map((c) => ({ model: c.model, speedMHz: c.speed })),
    memoryTotalMB: Math.round(totalmem() / 2 ** 20),
    memoryFreeMB: Math.round(freemem() / 2 ** 20),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    chromium: await versionOf(CHROMIUM, ['--version']),
    janus: await versionOf('janus', ['--version']),
  };
}

async function versionOf(binary: string, args: string[]): Promise<string> {
  let text: string;
  try {
    const { stdout, stderr } = await run(binary, args, { timeout: 10_000 });
    text = stdout || stderr;
  } catch (error) {
    // `janus --version` prints its version and then exits non-zero.
    const failed = error as Error & { stdout?: string; stderr?: string };
    text = failed.stdout || failed.stderr || '';
    if (!/version/i.test(text)) return `unknown (${failed.message.split('\n')[0]})`;
  }
  const lines = text.trim().split('\n');
  return lines.find((l) => /version/i.test(l)) ?? lines[0] ?? 'unknown';
}
