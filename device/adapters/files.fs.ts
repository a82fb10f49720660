import { access, constants, readdir, readFile } from 'node:fs/promises';

/** Plain file questions for `classbox doctor`: what exists, what this user may write, what a file says. */
export const files = {
  async exists(path: string): Promise<boolean> {
    return access(path).then(
      () => true,
      () => false,
    );
  },
  async readWrite(path: string): Promise<boolean> {
    return access(path, constants.R_OK | constants.W_OK).then(
      () => true,
      () => false,
    );
  },
  async text(path: string): Promise<string | undefined> {
    return readFile(path, 'utf8').catch(() => undefined);
  },
  async list(dir: string): Promise<string[]> {
    return readdir(dir).catch(() => [] as string[]);
  },
};
export type Files = typeof files;
