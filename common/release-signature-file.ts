import { readFile } from 'node:fs/promises';
import { ClassboxError, reason } from './errors.js';
import { releaseSignatureSchema, type ReleaseSignature } from './release-manifest.js';
import { describeIssues } from './zod-issues.js';

/** A release's `.sig` file that can't be read or is not a signature. */
export class ReleaseSignatureFileError extends ClassboxError<'E-UPDATE-SIGNATURE'> {
  constructor(message: string) {
    super('E-UPDATE-SIGNATURE', message);
  }
}

/** The signature beside a manifest (`<manifest>.sig`), checked; for `release upload` and `release install`. */
export async function readReleaseSignatureFile(file: string): Promise<ReleaseSignature> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new ReleaseSignatureFileError(`can't read the signature ${file}: ${reason(error)}`);
  }
  const parsed = releaseSignatureSchema.safeParse(raw);
  if (!parsed.success)
    throw new ReleaseSignatureFileError(
      `invalid signature ${file}: ${describeIssues(parsed.error).join('; ')}`,
    );
  return parsed.data;
}
