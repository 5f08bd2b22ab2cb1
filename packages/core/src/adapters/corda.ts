/**
 * CorDA: context-oriented decomposition adaptation — LoRA initialised from the SVD of W·C, C the
 * covariance of the layer's inputs on a few calibration samples.
 *
 * Paper: Yibo Yang, Xiaojie Li, Zhongzhu Zhou, Shuaiwen Leon Song, Jianlong Wu, Liqiang Nie,
 * Bernard Ghanem (2024), "CorDA: Context-Oriented Decomposition Adaptation of Large Language
 * Models", NeurIPS 2024, arXiv:2406.05223. Names, steps and constants follow Hugging Face PEFT
 * 0.21's implementation (`peft/tuners/lora/corda.py`, `LoraLayer.corda_init`): `LoraConfig` with
 * `initLoraWeights: 'corda'` and `cordaConfig: { cordaMethod: 'ipm' | 'kpm' }`, and
 * {@link preprocessCorda} (PEFT's `preprocess_corda`) before `addAdapter` (`get_peft_model`).
 *
 * 1. Covariance ({@link collectCovariances}, PEFT's `calib_cov_distribution`): the targeted linears
 *    are wrapped for the calibration run, as the framework wraps adapted layers; each call's input,
 *    as rows x `[n, in]`, is scaled by 1/|max(x)| (PEFT divides by the absolute value of the
 *    largest element, not the largest absolute value) and xᵀx is summed; C = the sum / the number
 *    of calls.
 * 2. Decomposition ({@link cordaEigens}, PEFT's `collect_eigens_for_layer`): C' = C + d·mean(diag C)·I
 *    with d = 0.01, doubled until ‖C'·C'⁻¹ − I‖_F < 0.05; W·C' = U·S·Vhᵀ (thin SVD); V = (Vh·C'⁻¹)ᵀ,
 *    so W = U·S·Vᵀ exactly. `ipm` (instruction-previewed mode) keeps the r largest components,
 *    `kpm` (knowledge-preserved mode) the r smallest (PEFT's `crop_corda_eigens`).
 * 3. Init (PEFT's `corda_init`): S ← S/s (s the LoRA scaling), A = diag(√S)·Vᵀ `[r, in]`,
 *    B = U·diag(√S) `[out, r]`, and the base weight becomes W − s·B·A: the adapter holds the kept
 *    components, the frozen residual the others, so the model is unchanged at init (to rounding).
 *
 * In KPM the adapter trains the components least used by the calibration data and the frozen
 * residual keeps the ones it uses (the paper calibrates on question answering to preserve world
 * knowledge); in IPM the adapter starts from the components the task data uses most.
 *
 * Departures: covariances, inverse and SVD are in double precision in JavaScript (PEFT: float32
 * torch), so results agree with PEFT to float32 rounding (the parity test in
 * `tests/test_peft_parity.py` compares A, B up to each component's sign, the residual weights and
 * the outputs). Inputs are flattened to rows whatever their rank (PEFT's hook handles one
 * sequence per call). PEFT's cache and covariance files are not offered; {@link collectCovariances}
 * returns the covariances and {@link preprocessCorda} accepts them. Saved adapters keep PEFT's
 * `init_lora_weights: "corda"` and `corda_config`; like PEFT, loading one takes the saved A and B
 * (and needs the residual base model).
 */
import * as tf from '@tensorflow/tfjs-core';
import { findModules, type Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import type { LinearModule } from '../nn/linear.js';
import { targetMatcher, describeTargets } from './targets.js';
import { addAdapter, type AdapterRecord } from './framework.js';
import { loraConfig, registerLoraInit, type LoraConfig, type LoraConfigInput } from './lora.js';
import { assignTo, tensorAt } from './param-paths.js';
import { truncatedSvd } from './svd.js';
import type { TargetModules } from './config.js';
import type { InitContext } from './method.js';

/** A layer's input covariance, as {@link collectCovariances} measures it. */
export interface LayerCovariance {
  /** Row-major `[in, in]`, divided by the number of calls. */
  covariance: Float64Array;
  /** The layer's input width. */
  inFeatures: number;
  /** How many forward calls were summed. */
  calls: number;
}

/** The linear layers `targetModules` selects (CorDA adapts `nn.Linear`s only). */
function cordaTargets(model: Module, targetModules: TargetModules, caller: string): Array<{ path: string; module: LinearModule; parent: Module; key: string }> {
  const matches = targetMatcher(targetModules);
  const found = findModules(model).filter((e) => e.path !== '' && matches(e.path) && e.module.kind === 'linear');
  if (found.length === 0) throw new Error(`${caller}: targetModules ${JSON.stringify(describeTargets(targetModules))} matched no linear module`);
  return found.map((e) => ({ path: e.path, module: e.module as LinearModule, parent: e.parent!, key: e.key! }));
}

/**
 * Runs `run` (a callback that applies the model to calibration data, PEFT's `run_model`, or the
 * calibration inputs themselves) with each targeted linear wrapped to record its inputs, and returns
 * each layer's covariance (step 1 of the file comment), by path. The model is restored afterwards.
 */
export function collectCovariances(model: Module, params: Params, targetModules: TargetModules, run: (() => void) | Iterable<tf.Tensor>): Map<string, LayerCovariance> {
  const targets = cordaTargets(model, targetModules, 'collectCovariances');
  const sums = new Map(targets.map((t) => [t.path, { covariance: new Float64Array(t.module.inFeatures * t.module.inFeatures), inFeatures: t.module.inFeatures, calls: 0 }]));
  const record = (path: string, x: tf.Tensor): void => {
    const entry = sums.get(path)!;
    const n = entry.inFeatures;
    const product = tf.tidy(() => {
      const rows = tf.reshape(x, [-1, n]);
      const top = tf.abs(tf.max(rows));
      const scaled = tf.div(rows, top);
      return tf.matMul(tf.transpose(scaled), scaled);
    });
    const values = product.dataSync();
    product.dispose();
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i])) throw new Error(`collectCovariances: layer '${path}' got an input whose largest element is 0 (or non-finite values); its covariance is undefined`);
      entry.covariance[i] += values[i];
    }
    entry.calls++;
  };
  for (const t of targets) {
    const base = t.module;
    const recording: LinearModule = { ...base, apply: (p, x, ctx) => (record(t.path, x), base.apply(p, x, ctx)) };
    (t.parent.children as Record<string, Module>)[t.key] = recording;
  }
  try {
    if (typeof run === 'function') run();
    else for (const x of run) tf.dispose(tf.tidy(() => model.apply(params, x)));
  } finally {
    for (const t of targets) (t.parent.children as Record<string, Module>)[t.key] = t.module;
  }
  for (const [path, entry] of sums) {
    if (entry.calls === 0) throw new Error(`collectCovariances: layer '${path}' was never called by the calibration run`);
    for (let i = 0; i < entry.covariance.length; i++) entry.covariance[i] /= entry.calls;
  }
  return sums;
}

/** The inverse of a row-major n×n matrix (Gauss–Jordan with partial pivoting), or undefined when singular. */
export function invertMatrix(matrix: ArrayLike<number>, n: number): Float64Array | undefined {
  const a = Float64Array.from(matrix);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(a[row * n + col]) > Math.abs(a[pivot * n + col])) pivot = row;
    const p = a[pivot * n + col];
    if (p === 0 || !Number.isFinite(p)) return undefined;
    if (pivot !== col) {
      for (let j = 0; j < n; j++) {
        [a[col * n + j], a[pivot * n + j]] = [a[pivot * n + j], a[col * n + j]];
        [inv[col * n + j], inv[pivot * n + j]] = [inv[pivot * n + j], inv[col * n + j]];
      }
    }
    for (let j = 0; j < n; j++) {
      a[col * n + j] /= p;
      inv[col * n + j] /= p;
    }
    for (let row = 0; row < n; row++) {
      const f = a[row * n + col];
      if (row === col || f === 0) continue;
      for (let j = 0; j < n; j++) {
        a[row * n + j] -= f * a[col * n + j];
        inv[row * n + j] -= f * inv[col * n + j];
      }
    }
  }
  return inv;
}

/** The kept CorDA components of one layer (PEFT's `CordaEigens`, cropped). */
export interface CordaEigens {
  /** Rank kept. */
  r: number;
  /** Which end of the spectrum was kept. */
  cordaMethod: 'ipm' | 'kpm';
  /** Singular values of W·C', kept ones (descending). */
  s: Float64Array;
  /** Left singular vectors, row-major `[out, r]`. */
  u: Float64Array;
  /** V = (Vh·C'⁻¹)ᵀ, row-major `[in, r]`. */
  v: Float64Array;
  /** All singular values of W·C' (descending), for reports and checks. */
  spectrum: Float64Array;
  /** The damping d that made C' invertible (C' = C + d·mean(diag C)·I). */
  damp: number;
}

/** Steps 2 of the file comment for one weight W (row-major `[out, in]`) and its input covariance. */
export function cordaEigens(weight: ArrayLike<number>, out: number, inF: number, covariance: ArrayLike<number>, r: number, cordaMethod: 'ipm' | 'kpm'): CordaEigens {
  const m = Math.min(out, inF);
  if (!Number.isInteger(r) || r < 1 || r > m) throw new Error(`cordaEigens: r must be in [1, ${m}], got ${r}`);
  if (covariance.length !== inF * inF) throw new Error(`cordaEigens: the covariance has ${covariance.length} values, expected ${inF}×${inF}`);
  let meanDiag = 0;
  for (let i = 0; i < inF; i++) meanDiag += covariance[i * inF + i] / inF;
  if (!(meanDiag > 0)) throw new Error('cordaEigens: the covariance is zero (the layer saw only zero inputs)');
  let damp = 0.01;
  let fixed: Float64Array;
  let inverse: Float64Array | undefined;
  for (let attempt = 0; ; attempt++) {
    if (attempt > 60) throw new Error('cordaEigens: no damping made the covariance invertible');
    fixed = Float64Array.from(covariance);
    for (let i = 0; i < inF; i++) fixed[i * inF + i] += meanDiag * damp;
    inverse = invertMatrix(fixed, inF);
    if (inverse && inverseError(fixed, inverse, inF) < 0.05) break;
    damp *= 2;
  }
  // W·C' (out × in), its SVD, and V = (Vh·C'⁻¹)ᵀ.
  const wc = new Float64Array(out * inF);
  for (let o = 0; o < out; o++) {
    for (let j = 0; j < inF; j++) {
      let sum = 0;
      for (let k = 0; k < inF; k++) sum += weight[o * inF + k] * fixed![k * inF + j];
      wc[o * inF + j] = sum;
    }
  }
  const svd = truncatedSvd(wc, out, inF, m);
  const keep = cordaMethod === 'ipm' ? Array.from({ length: r }, (_, k) => k) : Array.from({ length: r }, (_, k) => m - r + k);
  const s = Float64Array.from(keep, (k) => svd.s[k]);
  const u = new Float64Array(out * r);
  const v = new Float64Array(inF * r);
  keep.forEach((k, c) => {
    for (let o = 0; o < out; o++) u[o * r + c] = svd.u[o * m + k];
    for (let i = 0; i < inF; i++) {
      let sum = 0;
      for (let j = 0; j < inF; j++) sum += svd.vt[k * inF + j] * inverse![j * inF + i];
      v[i * r + c] = sum;
    }
  });
  return { r, cordaMethod, s, u, v, spectrum: svd.s, damp };
}

function inverseError(matrix: Float64Array, inverse: Float64Array, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += matrix[i * n + k] * inverse[k * n + j];
      sum += (dot - (i === j ? 1 : 0)) ** 2;
    }
  }
  return Math.sqrt(sum);
}

/** Eigens waiting for `addAdapter`, by base linear module (PEFT stores them on the module as `eigens`). */
const pending = new WeakMap<Module, CordaEigens>();

/**
 * PEFT's `preprocess_corda`: for the linears `config.targetModules` selects, measures the input
 * covariance on the calibration run (or takes `covariances` from an earlier
 * {@link collectCovariances}) and computes the kept components, which the next `addAdapter` with
 * this config consumes. Returns the components by layer path.
 */
export function preprocessCorda(
  model: Module,
  params: Params,
  config: LoraConfig | LoraConfigInput,
  calibration: (() => void) | Iterable<tf.Tensor> | Map<string, LayerCovariance>,
): Map<string, CordaEigens> {
  const cfg = loraConfig(config as LoraConfigInput);
  if (cfg.initLoraWeights !== 'corda') throw new Error(`preprocessCorda: LoraConfig.initLoraWeights must be 'corda', got ${JSON.stringify(cfg.initLoraWeights)}`);
  const method = cfg.cordaConfig?.cordaMethod ?? 'ipm';
  const targets = cordaTargets(model, cfg.targetModules, 'preprocessCorda');
  const covariances = calibration instanceof Map ? calibration : collectCovariances(model, params, cfg.targetModules, calibration);
  const out = new Map<string, CordaEigens>();
  for (const t of targets) {
    const cov = covariances.get(t.path);
    if (!cov) throw new Error(`preprocessCorda: no covariance for layer '${t.path}' (have: ${[...covariances.keys()].join(', ')})`);
    const weight = tensorAt(params, `${t.path}.weight`, 'preprocessCorda');
    const eigens = cordaEigens(weight.dataSync(), t.module.outFeatures, t.module.inFeatures, cov.covariance, cfg.r, method);
    pending.set(t.module, eigens);
    out.set(t.path, eigens);
  }
  return out;
}

/** Step 3 for one layer (registered as LoRA's `'corda'` initialisation). */
function cordaInit(ctx: InitContext<LoraConfig>, scale: number): [tf.Tensor, tf.Tensor] {
  const { layer, config } = ctx;
  const eigens = pending.get(layer.module);
  if (!eigens) throw new Error(`LoraConfig.initLoraWeights 'corda': layer '${layer.path}' has no CorDA components; run preprocessCorda(model, params, config, calibration) first (PEFT's preprocess_corda)`);
  if (eigens.r !== config.r) throw new Error(`LoraConfig.initLoraWeights 'corda': layer '${layer.path}' was preprocessed for r = ${eigens.r}, the config has r = ${config.r}`);
  const { r } = eigens;
  const [out, inF] = [layer.outFeatures, layer.inFeatures];
  const a = new Float32Array(r * inF);
  const b = new Float32Array(out * r);
  for (let k = 0; k < r; k++) {
    const root = Math.sqrt(eigens.s[k] / scale);
    for (let i = 0; i < inF; i++) a[k * inF + i] = eigens.v[i * r + k] * root;
    for (let o = 0; o < out; o++) b[o * r + k] = eigens.u[o * r + k] * root;
  }
  const A = tf.tensor2d(a, [r, inF]);
  const B = tf.tensor2d(b, [out, r]);
  const weight = tensorAt(ctx.params, 'weight', 'corda') as tf.Variable;
  assignTo(weight, () => tf.sub(weight, tf.mul(tf.matMul(B, A), scale)));
  pending.delete(layer.module);
  return [A, B];
}

registerLoraInit('corda', cordaInit);

/** {@link preprocessCorda} then `addAdapter`: a CorDA-initialised LoRA adapter in one call. */
export function addCordaAdapter(
  model: Module,
  params: Params,
  config: LoraConfigInput,
  calibration: (() => void) | Iterable<tf.Tensor> | Map<string, LayerCovariance>,
  name = 'default',
): AdapterRecord {
  const cfg = loraConfig({ initLoraWeights: 'corda', ...config });
  preprocessCorda(model, params, cfg, calibration);
  return addAdapter(model, params, cfg, name);
}
