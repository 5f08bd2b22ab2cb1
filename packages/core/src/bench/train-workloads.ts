/**
 * Training-step benchmark of HyperLab's core (not a test). Three workloads, each a full training
 * step exactly as `train()` runs it — `tf.variableGrads` of the loss over the trainable variables,
 * the optimizer's `step`, then reading the loss (`await loss.data()`), all in `tf.tidy`:
 *
 * - A  MLP 784-512-512-10 (ReLU), batch 256, Adam, cross-entropy, all parameters trained;
 * - B  the same MLP with rank-8 LoRA updates on both hidden layers (`W x + B (A x) · α/r`, α = 16,
 *      A `[8, in]` random, B `[out, 8]` zero), frozen base weights and biases; trained: A, B of
 *      both hidden layers and the last layer (weight and bias);
 * - C  one pre-norm transformer encoder block (d 256, 4 heads, ff 1024, GELU, dropout 0),
 *      input `[32, 64, 256]`, Adam, loss = mean(output²).
 *
 * Data are random and fixed (one batch, made before timing). Usage, after building:
 *
 * ```sh
 * node packages/core/dist/bench/train-workloads.js --backend wasm [--workloads A,B,C]
 *   [--warmup 5] [--steps 30] [--json] [--profile] [--compiled]
 * ```
 *
 * `--baseline` switches HyperLab's fast training paths off (`setFastKernelsEnabled(false)`), which
 * restores the code paths from before them, for a before/after in one run.
 *
 * `--compiled` (native backend) runs the steps as `train()` runs them there: compiled to a
 * TensorFlow graph (`backend/graph-step.ts`) once two traced steps agree, during the warm-up.
 *
 * `--json` prints one JSON object (per-workload step times and medians); `--profile` prints the
 * per-kernel time of the timed steps instead (see `perf/kernel-timer.ts`).
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import { setBackend, type BackendName } from '../backend/backend.js';
import { trainableVariables, setTrainable, disposeParams, type Params } from '../params/params.js';
import type { ApplyContext, Module } from '../nn/module.js';
import { mlp, type MlpModule } from '../nn/mlp.js';
import { linearForward, type LinearModule } from '../nn/linear.js';
import { initVariable, initializers } from '../nn/init.js';
import { paramLeaf } from '../nn/param-lookup.js';
import { transformerEncoderBlock } from '../nn/transformer.js';
import { adam, type Optimizer } from '../train/optimizers.js';
import { softmaxCrossEntropy, type LossFn } from '../train/losses.js';
import { startKernelTimer } from '../perf/kernel-timer.js';
import { setFastKernelsEnabled } from '../backend/matmul-fast.js';
import { StepCompiler } from '../backend/graph-step.js';

export const LORA_RANK = 8;
export const LORA_ALPHA = 16;

/** One benchmark workload, ready to step. */
export interface Workload {
  id: string;
  description: string;
  model: Module;
  params: Params;
  x: tf.Tensor;
  y: tf.Tensor;
  loss: LossFn;
  optimizer: Optimizer;
  /** Number of trained scalars (to check both sides train the same thing). */
  trainedScalars: number;
}

/**
 * A LoRA-adapted linear, built from core ops: `linear(x) + linearForward(linearForward(x, A), B)·α/r`
 * with params `{ weight, bias, lora_A: [r, in], lora_B: [out, r] }`; A ~ U(±1/√in), B = 0 (PEFT).
 */
export function loraLinear(base: LinearModule, rank: number, alpha: number): Module {
  const scale = alpha / rank;
  return {
    kind: 'lora_linear',
    init(rng: Rng): Params {
      const params = base.init(rng.fork('base'));
      params.lora_A = initVariable(initializers.uniform(1 / Math.sqrt(base.inFeatures)), rng.fork('lora_A'), [rank, base.inFeatures], 'lora_A');
      params.lora_B = initVariable(initializers.zeros(), rng.fork('lora_B'), [base.outFeatures, rank], 'lora_B');
      return params;
    },
    apply(params: Params, x: tf.Tensor, _ctx?: ApplyContext): tf.Tensor {
      return tf.tidy(() => {
        const w = paramLeaf(params, 'weight', 'lora');
        const b = base.bias ? paramLeaf(params, 'bias', 'lora') : undefined;
        const down = linearForward(x, paramLeaf(params, 'lora_A', 'lora'));
        const up = linearForward(down, paramLeaf(params, 'lora_B', 'lora'));
        return tf.add(linearForward(x, w, b), tf.mul(up, scale));
      });
    },
  };
}

function randn(rng: Rng, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(rng.fillNormal(new Float32Array(n)), shape, 'float32');
}

function labels(rng: Rng, n: number, classes: number): tf.Tensor {
  return tf.tensor1d(Int32Array.from({ length: n }, () => rng.int(classes)), 'int32');
}

const meanSquare: LossFn = (out) => tf.mean(tf.square(out)) as tf.Scalar;

function count(vars: tf.Variable[]): number {
  return vars.reduce((a, v) => a + v.size, 0);
}

/** Builds a workload (parameters, fixed random batch, optimizer). */
export function makeWorkload(id: string, seed = 0): Workload {
  const rng = new Rng(`train-bench-${id}-${seed}`);
  if (id === 'A' || id === 'B') {
    const model: MlpModule = mlp({ sizes: [784, 512, 512, 10] });
    if (id === 'B') {
      for (const name of ['0', '1']) model.children[name] = loraLinear(model.children[name] as LinearModule, LORA_RANK, LORA_ALPHA);
    }
    const params = model.init(rng.fork('init'));
    if (id === 'B') setTrainable(params, ['0.weight', '0.bias', '1.weight', '1.bias'], false);
    const x = randn(rng.fork('x'), [256, 784]);
    const y = labels(rng.fork('y'), 256, 10);
    const trained = trainableVariables(params);
    return {
      id,
      description:
        id === 'A'
          ? 'MLP 784-512-512-10, batch 256, Adam, cross-entropy, all trained'
          : `MLP + LoRA r=${LORA_RANK} on both hidden layers, frozen bases; trains A, B and the last layer`,
      model,
      params,
      x,
      y,
      loss: softmaxCrossEntropy,
      optimizer: adam({ lr: 1e-3 }),
      trainedScalars: count(trained),
    };
  }
  if (id === 'C') {
    const model = transformerEncoderBlock({ dModel: 256, numHeads: 4, dimFeedforward: 1024, dropout: 0, activation: 'gelu', normFirst: true });
    const params = model.init(rng.fork('init'));
    const x = randn(rng.fork('x'), [32, 64, 256]);
    return {
      id,
      description: 'transformer encoder block d256 h4 ff1024 (pre-norm, GELU), seq 64, batch 32, Adam, mean(out²)',
      model,
      params,
      x,
      y: tf.zeros([1]),
      loss: meanSquare,
      optimizer: adam({ lr: 1e-4 }),
      trainedScalars: count(trainableVariables(params)),
    };
  }
  throw new Error(`unknown workload ${id}`);
}

/**
 * One training step as `train()` does it; returns the loss. With a `compiler` (native backend),
 * the step runs as `train()` runs it there: as a compiled TensorFlow graph once it is stable.
 */
export async function step(w: Workload, ctx: ApplyContext = { training: true }, compiler?: StepCompiler): Promise<number> {
  const variables = trainableVariables(w.params);
  const eager = (scalar?: (v: number) => tf.Scalar): tf.Scalar =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => w.loss(w.model.apply(w.params, w.x, ctx), w.y), variables);
      w.optimizer.step({ variables, grads: variables.map((v) => grads[v.name]) }, w.optimizer.lr, scalar);
      return value;
    });
  const lossTensor = compiler
    ? compiler.run(
        () => eager((v) => compiler.scalar(v)),
        [w.x, w.y],
        () => w.optimizer.stepNumbers!(variables, w.optimizer.lr),
        () => w.optimizer.advance!(variables),
      )
    : eager();
  try {
    return (await lossTensor.data())[0];
  } finally {
    lossTensor.dispose();
  }
}

export function disposeWorkload(w: Workload): void {
  w.optimizer.dispose();
  disposeParams(w.params);
  tf.dispose([w.x, w.y]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Result of timing one workload. */
export interface WorkloadTiming {
  id: string;
  description: string;
  trainedScalars: number;
  warmup: number;
  steps: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  firstLoss: number;
  lastLoss: number;
  leakedTensors: number;
}

export async function timeWorkload(id: string, warmup: number, steps: number, compiled = false): Promise<WorkloadTiming> {
  const w = makeWorkload(id);
  const compiler = compiled ? new StepCompiler() : undefined;
  const once = (wl: Workload): Promise<number> => step(wl, undefined, compiler);
  const before = tf.memory().numTensors;
  let firstLoss = NaN;
  let lastLoss = NaN;
  for (let i = 0; i < warmup; i++) {
    const l = await once(w);
    if (i === 0) firstLoss = l;
  }
  const afterWarmup = tf.memory().numTensors;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    lastLoss = await once(w);
    times.push(performance.now() - t0);
  }
  const leaked = tf.memory().numTensors - afterWarmup;
  void before;
  if (compiler && compiler.stats.compiledSteps < steps) throw new Error(`workload ${id}: only ${compiler.stats.compiledSteps} of ${steps} timed steps ran compiled (${compiler.stats.reason ?? 'no reason'})`);
  compiler?.dispose();
  const result: WorkloadTiming = {
    id,
    description: w.description,
    trainedScalars: w.trainedScalars,
    warmup,
    steps,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    firstLoss,
    lastLoss,
    leakedTensors: leaked,
  };
  disposeWorkload(w);
  return result;
}

async function profile(id: string, backend: string, warmup: number, steps: number, byShape: boolean): Promise<void> {
  const w = makeWorkload(id);
  for (let i = 0; i < warmup; i++) await step(w);
  const timer = startKernelTimer(backend, { byShape });
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step(w);
  const wall = (performance.now() - t0) / steps;
  const rows = timer.report();
  timer.stop();
  const kernelSelf = rows.reduce((a, r) => a + r.selfMs, 0) / steps;
  console.log(`\n## ${id} on ${backend}: ${wall.toFixed(2)} ms/step wall, ${kernelSelf.toFixed(2)} ms/step in kernels (self), ${rows.reduce((a, r) => a + r.calls, 0) / steps} kernel calls/step`);
  console.log('| kernel | calls/step | self ms/step | total ms/step |\n| --- | ---: | ---: | ---: |');
  for (const r of rows.slice(0, byShape ? 40 : 25)) {
    console.log(`| ${r.name} | ${(r.calls / steps).toFixed(1)} | ${(r.selfMs / steps).toFixed(3)} | ${(r.totalMs / steps).toFixed(3)} |`);
  }
  disposeWorkload(w);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const backend = opt('backend', 'wasm') as BackendName;
  const workloads = opt('workloads', 'A,B,C').split(',');
  const warmup = Number(opt('warmup', '5'));
  const steps = Number(opt('steps', '30'));
  const info = await setBackend(backend);
  const baseline = args.includes('--baseline');
  if (baseline) setFastKernelsEnabled(false);
  if (args.includes('--profile')) {
    for (const id of workloads) await profile(id, tf.getBackend(), warmup, Math.min(steps, 10), args.includes('--by-shape'));
    return;
  }
  const results: WorkloadTiming[] = [];
  for (const id of workloads) {
    const r = await timeWorkload(id, warmup, steps, args.includes('--compiled'));
    results.push(r);
    if (!args.includes('--json')) console.log(`${id} ${backend}: ${r.medianMs.toFixed(2)} ms/step (min ${r.minMs.toFixed(2)}, max ${r.maxMs.toFixed(2)}), loss ${r.firstLoss.toFixed(4)} → ${r.lastLoss.toFixed(4)}, leaked ${r.leakedTensors}`);
  }
  if (args.includes('--json')) {
    console.log(JSON.stringify({ backend: info.name, baseline, reason: info.reason, simd: info.simd, threads: info.threads, tfjs: info.tfjsVersion, node: process.version, results }));
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
