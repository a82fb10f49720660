#!/usr/bin/env node
/**
 * The Node half of provisioning/flash: reads partition tables, checks and writes enrolment seeds, mints
 * tokens for a batch. The bash script does the disk work; this does what needs JSON, HTTP or binary parsing.
 * Exit codes: 0 ok, 1 runtime failure, 2 bad input.
 */
import { Command, CommanderError } from 'commander';
import { open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { ClassboxError, reason } from '../../common/errors.js';
import { describeIssues } from '../../common/zod-issues.js';
import { AdminApiClient, AdminApiError } from '../adapters/admin-api.http.js';
import { parseDurationWithin, TOKEN_LIFETIME } from '../domain/duration.js';
import { mintSeeds } from './batch.js';
import { CentresCsvError, parseCentresCsv } from './centres-csv.js';
import { enrolmentSeedSchema, type EnrolmentSeed } from './enrolment-seed.schema.js';
import { labelSheetHtml, labelSheetText, labelsFor } from './label-sheet.js';
import { findBootPartition, PARTITION_TABLE_BYTES, PartitionTableError } from './partition-table.js';

/** Bad input: printed line by line, exit code 2. */
class InputError extends ClassboxError<'E-FLASH-INPUT'> {
  constructor(readonly lines: string[]) {
    super('E-FLASH-INPUT', lines.join('; '));
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command('flash-helper')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });

  program
    .command('boot-partition')
    .description('print "<offset> <size>" in bytes of the FAT boot partition of an image file or disk')
    .argument('<target>')
    .action(async (target: string) => {
      const head = await readHead(target, PARTITION_TABLE_BYTES);
      const part = findBootPartition(head);
      process.stdout.write(`${part.offsetBytes} ${part.sizeBytes}\n`);
    });

  program
    .command('seed')
    .description('check an enrolment seed (or make one from its fields) and write it, normalised, to --out')
    .requiredOption('--out <file>')
    .option('--from <file>', 'an existing seed file, e.g. from `classbox fleet token create`')
    .option('--token <token>')
    .option('--fleet-url <url>')
    .option('--device-id <id>')
    .option('--centre-id <id>')
    .option('--display-name <name>')
    .option('--expires-at <iso>')
    .option(
      '--allow-insecure-http',
      'development only: let the box enrol over http:// to a non-loopback host',
    )
    .action(async (opts: Record<string, string | undefined> & { allowInsecureHttp?: boolean }) => {
      const insecure = opts.allowInsecureHttp === true;
      const seed =
        opts.from !== undefined ? await seedFromFile(opts.from, insecure) : seedFromFields(opts, insecure);
      await writeFileAtomic(opts.out!, JSON.stringify(seed, null, 2));
    });

  program
    .command('batch')
    .description('mint a token per box of a centres CSV, write their seeds, print the label sheet')
    .requiredOption('--csv <file>')
    .requiredOption('--fleet-url <url>')
    .requiredOption('--admin-token-file <file>')
    .requiredOption('--out <dir>')
    .option('--expires-in <duration>', 'how long the tokens stay valid: 2w, 7d, 12h or 30m', '14d')
    .action(
      async (opts: {
        csv: string;
        fleetUrl: string;
        adminTokenFile: string;
        out: string;
        expiresIn: string;
      }) => {
        let expiresInSeconds: number;
        try {
          expiresInSeconds = parseDurationWithin(opts.expiresIn, TOKEN_LIFETIME);
        } catch (error) {
          throw new InputError([`--expires-in: ${(error as Error).message}`]);
        }
        if (!/^https?:\/\/[^\s/]+/.test(opts.fleetUrl))
          throw new InputError([`--fleet-url: expected an http:// or https:// URL`]);
        const rows = parseCentresCsv(await readText(opts.csv, '--csv'));
        const adminToken = (await readText(opts.adminTokenFile, '--admin-token-file')).trim();
        if (adminToken === '') throw new InputError([`--admin-token-file: ${opts.adminTokenFile} is empty`]);
        const minted = await mintSeeds(new AdminApiClient(opts.fleetUrl, adminToken), rows, expiresInSeconds);
        const seedsDir = join(opts.out, 'seeds');
        for (const box of minted) {
          await writeFileAtomic(
            join(seedsDir, `${box.seed.deviceId}.json`),
            JSON.stringify(box.seed, null, 2),
          );
        }
        const labels = labelsFor(
          minted.map((m) => m.row),
          new Map(minted.map((m) => [m.seed.deviceId, m.seed.expiresAt])),
        );
        const text = labelSheetText(labels);
        await writeFile(join(opts.out, 'labels.txt'), text);
        await writeFile(join(opts.out, 'labels.html'), labelSheetHtml(labels));
        process.stdout.write(text);
        process.stderr.write(
          `Minted ${minted.length} tokens; seeds in ${seedsDir}/, printable labels in ${join(opts.out, 'labels.html')}\n` +
            `Flash each card with: provisioning/flash --image IMAGE --target /dev/sdX --seed ${seedsDir}/<box id>.json\n`,
        );
      },
    );

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof InputError || error instanceof CentresCsvError) {
      for (const line of error.lines) process.stderr.write(`flash: ${line}\n`);
      return 2;
    }
    if (error instanceof PartitionTableError) {
      process.stderr.write(`flash: can't find the boot partition: ${error.message}\n`);
      return 2;
    }
    if (error instanceof AdminApiError) {
      process.stderr.write(`flash: can't mint tokens [${error.code}]: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(`flash: ${reason(error)}\n`);
    return 1;
  }
}

async function readHead(file: string, bytes: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readText(file: string, option: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError([
      `${option}: can't read ${file}: ${(error as NodeJS.ErrnoException).code ?? reason(error)}`,
    ]);
  }
}

async function seedFromFile(file: string, insecure: boolean): Promise<EnrolmentSeed> {
  const text = await readText(file, '--seed');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputError([`--seed: ${file} is not valid JSON: ${(error as Error).message}`]);
  }
  if (insecure && typeof raw === 'object' && raw !== null) raw = { ...raw, allowInsecureHttp: true };
  return checkSeed(raw, `--seed ${file}`);
}

function seedFromFields(opts: Record<string, string | undefined>, insecure: boolean): EnrolmentSeed {
  const missing = ['token', 'fleetUrl', 'deviceId', 'centreId', 'expiresAt'].filter(
    (k) => opts[k] === undefined,
  );
  if (missing.length > 0) {
    throw new InputError(
      missing.map(
        (k) =>
          `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required without --seed (use the values from the fleet server)`,
      ),
    );
  }
  return checkSeed(
    {
      fleetUrl: opts.fleetUrl,
      token: opts.token,
      deviceId: opts.deviceId,
      centreId: opts.centreId,
      displayName: opts.displayName ?? opts.deviceId,
      expiresAt: opts.expiresAt,
      ...(insecure ? { allowInsecureHttp: true } : {}),
    },
    'seed',
  );
}

function checkSeed(raw: unknown, what: string): EnrolmentSeed {
  const parsed = enrolmentSeedSchema.safeParse(raw);
  if (!parsed.success) throw new InputError(describeIssues(parsed.error).map((line) => `${what}: ${line}`));
  if (Date.parse(parsed.data.expiresAt) <= Date.now()) {
    throw new InputError([
      `${what}: expiresAt: the token expired at ${parsed.data.expiresAt}; mint a new one`,
    ]);
  }
  return parsed.data;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
