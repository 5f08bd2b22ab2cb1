/**
 * Benchmark of HyperLab's WASM kernels against the CPU backend's, at realistic sizes. Not a test:
 * run `node packages/core/dist/backend/kernels/kernels.bench.js` after building. Prints a table of
 * median milliseconds per call and the CPU/WASM ratio.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../random.js';
import { registerBackends, setBackend, type BackendName } from '../backend.js';

interface Case {
  name: string;
  /** Builds inputs (outside the timed region) and returns the timed call. */
  setup: () => { run: () => tf.Tensor | tf.Tensor[]; inputs: tf.Tensor[] };
  /** Repetitions per backend (the CPU segment sum is slow). */
  reps: Partial<Record<BackendName, number>>;
}

const rng = new Rng('kernel-bench');
const values = (shape: number[]): Float32Array => rng.fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -1, 1);
const ints = (n: number, high: number): Int32Array => Int32Array.from({ length: n }, () => rng.int(high));

const embeddingIds = ints(32 * 64, 10000);
const embeddingGrad = values([32 * 64, 128]);
const convX = values([32, 28, 28, 32]);
const convDy = values([32, 28, 28, 64]);
const attnQ = values([8, 8, 128, 64]);
const attnK = values([8, 8, 128, 64]);
const matA = values([256, 512]);
const matB = values([512, 256]);

const cases: Case[] = [
  {
    name: 'UnsortedSegmentSum: [2048,128] into 10000 segments (grad of gather 10000x128 by 32x64 ids)',
    setup: () => {
      const x = tf.tensor2d(embeddingGrad, [2048, 128]);
      const ids = tf.tensor1d(embeddingIds, 'int32');
      return { run: () => tf.unsortedSegmentSum(x, ids, 10000), inputs: [x, ids] };
    },
    reps: { wasm: 20, cpu: 1 },
  },
  {
    name: 'Conv2DBackpropFilter: x 32x28x28x32, dy 32x28x28x64 -> 3x3x32x64 (same, stride 1)',
    setup: () => {
      const x = tf.tensor4d(convX, [32, 28, 28, 32]);
      const dy = tf.tensor4d(convDy, [32, 28, 28, 64]);
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 32, 64] } as unknown as tf.NamedAttrMap;
      return { run: () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs) as tf.Tensor, inputs: [x, dy] };
    },
    reps: { wasm: 5, cpu: 3 },
  },
  {
    name: "Einsum 'bhqd,bhkd->bhqk': 8x8x128x64 · 8x8x128x64",
    setup: () => {
      const q = tf.tensor4d(attnQ, [8, 8, 128, 64]);
      const k = tf.tensor4d(attnK, [8, 8, 128, 64]);
      return { run: () => tf.einsum('bhqd,bhkd->bhqk', q, k), inputs: [q, k] };
    },
    reps: { wasm: 10, cpu: 2 },
  },
  {
    name: "Einsum 'ij,jk->ik': 256x512 · 512x256",
    setup: () => {
      const a = tf.tensor2d(matA, [256, 512]);
      const b = tf.tensor2d(matB, [512, 256]);
      return { run: () => tf.einsum('ij,jk->ik', a, b), inputs: [a, b] };
    },
    reps: { wasm: 10, cpu: 2 },
  },
  {
    name: "reference: tf.matMul 256x512 · 512x256 (same work as 'ij,jk->ik')",
    setup: () => {
      const a = tf.tensor2d(matA, [256, 512]);
      const b = tf.tensor2d(matB, [512, 256]);
      return { run: () => tf.matMul(a, b), inputs: [a, b] };
    },
    reps: { wasm: 10, cpu: 2 },
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(backend: BackendName, c: Case): Promise<number> {
  await setBackend(backend);
  const { run, inputs } = c.setup();
  const once = (): number => {
    const t0 = performance.now();
    const out = run();
    for (const t of Array.isArray(out) ? out : [out]) t.dataSync();
    const ms = performance.now() - t0;
    tf.dispose(out);
    return ms;
  };
  const reps = c.reps[backend] ?? 3;
  if (reps > 1) once(); // warm-up
  const times = Array.from({ length: reps }, once);
  tf.dispose(inputs);
  return median(times);
}

async function main(): Promise<void> {
  registerBackends();
  const only = process.argv[2];
  console.log('| case | wasm ms | cpu ms | cpu / wasm |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const c of cases) {
    if (only && !c.name.includes(only)) continue;
    const wasm = await time('wasm', c);
    const cpu = await time('cpu', c);
    console.log(`| ${c.name} | ${wasm.toFixed(1)} | ${cpu.toFixed(1)} | ${(cpu / wasm).toFixed(1)}x |`);
  }
}

void main();
