import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  desiredConfigSchema,
  enrolmentSeedSchema,
  type DesiredConfig,
  type EnrolmentSeed,
} from '../../common/fleet-protocol.js';
import { writeFileAtomic } from '../../common/atomic-file.js';
import { describeIssues } from '../../common/zod-issues.js';
import { FleetError, FleetStatePort, type DeviceKeyPair, type EnrolmentState } from '../ports/fleet.port.js';

const enrolmentStateSchema = z.strictObject({
  deviceId: z.string(),
  centreId: z.string(),
  displayName: z.string(),
  fleetUrl: z.string(),
  enrolledAt: z.string(),
});
const savedDesiredSchema = z.strictObject({ config: desiredConfigSchema, etag: z.string() });

/**
 * The fleet state in `<stateDir>/fleet/`: `device-key.pem` (0600), `enrolment.json`,
 * `desired-config.json`. Every write is temp file → fsync → rename, so a power cut leaves
 * either the old file or the new one.
 *
 * Not marked `@Injectable()`: it is made by a factory (`fleet.providers.ts`), and the config loader
 * reads the enrolment with it before Chromium is launched, which must not wait for loading
 * `@nestjs/common` and rxjs first (issue 17, start → READY).
 */
export class FsFleetState extends FleetStatePort {
  private readonly dir: string;

  constructor(stateDir: string) {
    super();
    this.dir = join(stateDir, 'fleet');
  }

  async readSeed(file: string): Promise<EnrolmentSeed | undefined> {
    const raw = await this.readJson(file);
    if (raw === undefined) return undefined;
    const parsed = enrolmentSeedSchema.safeParse(raw);
    if (!parsed.success) {
      throw new FleetError(
        'E-FLEET-STATE',
        `invalid enrolment file ${file}: ${describeIssues(parsed.error).join('; ')}`,
      );
    }
    return parsed.data;
  }

  async deleteSeed(file: string): Promise<void> {
    try {
      await unlink(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new FleetError('E-FLEET-STATE', `can't delete enrolment file ${file}`, {}, { cause: error });
      }
    }
  }

  async readEnrolment(): Promise<EnrolmentState | undefined> {
    return this.readState('enrolment.json', enrolmentStateSchema);
  }

  saveEnrolment(state: EnrolmentState): Promise<void> {
    return this.writeAtomic(join(this.dir, 'enrolment.json'), JSON.stringify(state, null, 2));
  }

  async ensureKeyPair(): Promise<DeviceKeyPair> {
    const file = join(this.dir, 'device-key.pem');
    let privateKeyPem: string | undefined;
    try {
      privateKeyPem = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new FleetError('E-FLEET-STATE', `can't read device key ${file}`, {}, { cause: error });
      }
    }
    if (privateKeyPem === undefined) {
      const { privateKey } = generateKeyPairSync('ed25519');
      privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await this.writeAtomic(file, privateKeyPem);
    }
    const publicKeyPem = createPublicKey(createPrivateKey(privateKeyPem))
      .export({ type: 'spki', format: 'pem' })
      .toString();
    return { publicKeyPem, privateKeyPem };
  }

  async readDesired(): Promise<{ config: DesiredConfig; etag: string } | undefined> {
    return this.readState('desired-config.json', savedDesiredSchema);
  }

  saveDesired(desired: { config: DesiredConfig; etag: string }): Promise<void> {
    return this.writeAtomic(join(this.dir, 'desired-config.json'), JSON.stringify(desired, null, 2));
  }

  private async readState<S extends z.ZodType>(name: string, schema: S): Promise<z.output<S> | undefined> {
    const file = join(this.dir, name);
    const raw = await this.readJson(file);
    if (raw === undefined) return undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success)
      throw new FleetError('E-FLEET-STATE', `invalid ${file}: ${describeIssues(parsed.error).join('; ')}`);
    return parsed.data;
  }

  private async readJson(file: string): Promise<unknown> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new FleetError('E-FLEET-STATE', `can't read ${file}`, {}, { cause: error });
    }
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new FleetError('E-FLEET-STATE', `${file} is not valid JSON`, {}, { cause: error });
    }
  }

  /** Mode 0600 for everything: the key is secret, the config holds room pins and tokens. */
  private async writeAtomic(file: string, text: string): Promise<void> {
    try {
      await writeFileAtomic(file, text);
    } catch (error) {
      throw new FleetError('E-FLEET-STATE', `can't write ${file}`, {}, { cause: error });
    }
  }
}
