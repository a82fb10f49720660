import type { BenchContext, Figure } from './figure.js';
import { measureAudio } from './lib/bad-link-audio.js';

/** Issue 16's sound figure on its own (`npm run bench -- --only audio`): see `measureAudio`. */
export function measure(ctx: BenchContext): Promise<Figure[]> {
  return measureAudio(ctx);
}
