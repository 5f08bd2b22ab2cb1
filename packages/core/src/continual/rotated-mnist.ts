/**
 * Rotated MNIST: every experience rotates all of MNIST by its own angle (Lopez-Paz & Ranzato
 * 2017, "Gradient Episodic Memory for Continual Learning", arXiv:1706.08840; Avalanche's
 * `RotatedMNIST`). Without `rotationsList` the angles are drawn from the seed as Avalanche does,
 * an integer in [−180, 180] per experience. The rotation is counter-clockwise about the image
 * centre with nearest-neighbour sampling and zero fill, as torchvision's `rotate` (Avalanche's
 * default interpolation).
 */
import { Rng } from '../random.js';
import type { Benchmark } from './benchmark.js';
import { checkMappedOptions, mappedMnist, type MappedMnistOptions } from './mapped-mnist.js';

/** Options of {@link rotatedMnist}. */
export interface RotatedMnistOptions extends MappedMnistOptions {
  /** The angle of each experience in degrees (length nExperiences); default drawn from the seed. */
  rotationsList?: number[];
}

/** The index map of a nearest-neighbour rotation of a `size × size` image by `degrees` (−1: outside). */
export function rotationMap(degrees: number, size = 28): Int32Array {
  const map = new Int32Array(size * size);
  const theta = (degrees * Math.PI) / 180;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const c = (size - 1) / 2;
  for (let r = 0; r < size; r++) {
    for (let col = 0; col < size; col++) {
      // Inverse map: the source of output pixel (r, col) is it rotated by −θ (y axis pointing down).
      const x = col - c;
      const y = r - c;
      const sx = Math.round(cos * x - sin * y + c);
      const sy = Math.round(sin * x + cos * y + c);
      map[r * size + col] = sx >= 0 && sx < size && sy >= 0 && sy < size ? sy * size + sx : -1;
    }
  }
  return map;
}

/** Builds Rotated MNIST (see the file comment). */
export function rotatedMnist(options: RotatedMnistOptions): Benchmark {
  checkMappedOptions('rotatedMnist', options);
  const { rotationsList, nExperiences, seed } = options;
  if (rotationsList !== undefined && (!Array.isArray(rotationsList) || rotationsList.length !== nExperiences || !rotationsList.every((a) => typeof a === 'number' && Number.isFinite(a)))) {
    throw new Error(`rotatedMnist: rotationsList must hold ${nExperiences} finite angles (one per experience), got [${String(rotationsList)}]`);
  }
  const rng = new Rng(seed).fork('rotations');
  const rotations = rotationsList ? [...rotationsList] : Array.from({ length: nExperiences }, () => rng.int(361) - 180);
  return mappedMnist('rotated', 'rotated-mnist', options, rotations.map((a) => rotationMap(a)), (i) => ({ rotation: rotations[i] }), { rotations, rotationsFromSeed: !rotationsList }, { rotations });
}
