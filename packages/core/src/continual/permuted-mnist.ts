/**
 * Permuted MNIST: every experience applies its own fixed permutation of the 784 pixels to all of
 * MNIST (Goodfellow et al. 2013, "An Empirical Investigation of Catastrophic Forgetting in
 * Gradient-Based Neural Networks", arXiv:1312.6211; Kirkpatrick et al. 2017). As Avalanche's
 * `PermutedMNIST`, the first experience is permuted too unless `firstIdentity` (van de Ven &
 * Tolias 2019 keep the first task unpermuted in some figures).
 */
import { Rng } from '../random.js';
import type { Benchmark } from './benchmark.js';
import { checkMappedOptions, mappedMnist, type MappedMnistOptions } from './mapped-mnist.js';
import { indexMapFingerprint } from './pixel-map-dataset.js';

/** Options of {@link permutedMnist}. */
export interface PermutedMnistOptions extends MappedMnistOptions {
  /** Leave the first experience unpermuted. Default false (as Avalanche). */
  firstIdentity?: boolean;
}

/** The pixel permutations of a permuted stream: experience i's from `rng(seed).fork('permutation:i')`. */
export function mnistPermutations(seed: number, nExperiences: number, firstIdentity = false): Int32Array[] {
  const root = new Rng(seed);
  return Array.from({ length: nExperiences }, (_, i) => (i === 0 && firstIdentity ? Int32Array.from({ length: 784 }, (_, p) => p) : root.fork(`permutation:${i}`).permutation(784)));
}

/** Builds Permuted MNIST (see the file comment). */
export function permutedMnist(options: PermutedMnistOptions): Benchmark {
  checkMappedOptions('permutedMnist', options);
  const { firstIdentity = false } = options;
  const maps = mnistPermutations(options.seed, options.nExperiences, firstIdentity);
  const fingerprints = maps.map(indexMapFingerprint);
  return mappedMnist(
    'permuted',
    'permuted-mnist',
    options,
    maps,
    (i) => ({ permutation: fingerprints[i] }),
    { firstIdentity, permutationSeeds: maps.map((_, i) => (i === 0 && firstIdentity ? null : `fork('permutation:${i}') of seed ${options.seed}`)), permutationFingerprints: fingerprints },
    { permutations: maps.map((m) => Array.from(m)) },
  );
}
