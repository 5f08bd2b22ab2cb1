/** `%seed [N]`: the seed experiment magics use unless their config sets `seed`. */
import type { LineMagic } from '@hyperlab/kernel/magics';
import { session } from '../session.js';
import { UsageError } from '../config/yaml-config.js';

/** `%seed`. */
export const seedMagic: LineMagic = {
  kind: 'line',
  name: 'seed',
  help: 'Set (or show) the seed of the following runs: %seed N.',
  run(ctx) {
    const word = ctx.argv[0];
    if (word !== undefined) {
      if (!/^-?\d+$/.test(word) || !Number.isSafeInteger(Number(word))) throw new UsageError(`%seed (cell line ${ctx.line}) expects an integer, got "${word}"`);
      session.seed = Number(word);
    }
    ctx.print(`Seed: ${session.seed}`);
  },
};

/** The seed runs use now (for `%%experiment` code). */
export function currentSeed(): number {
  return session.seed;
}
