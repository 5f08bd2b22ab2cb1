/**
 * Combining LoRA adapters into a new one: `addWeightedAdapter`, with PEFT's `linear`, `cat` and
 * `svd` combinations (PEFT's `LoraModel.add_weighted_adapter`; the task-arithmetic view of adding
 * weighted weight updates is Ilharco et al. 2023, "Editing Models with Task Arithmetic",
 * arXiv:2212.04089; LoRA itself is Hu et al. 2021, arXiv:2106.09685).
 *
 * Notation: adapter i has factors A_i `[r_i, in]`, B_i `[out, r_i]`, scaling s_i (α_i/r_i, or
 * α_i/√r_i with rsLoRA), weight update ΔW_i = s_i·B_i·A_i, and the user's weight w_i. The new
 * adapter always has rank r_new, `loraAlpha = r_new` and `useRslora = false`, so its scaling is 1
 * and ΔW_new = B_new·A_new. Its other fields (dropout, bias, modulesToSave) are copied from the
 * first adapter, and its targets are the union of the adapters' targets (as PEFT does).
 *
 * - `'cat'` (exact): r_new = Σ r_i, A_new = concat_rows(w_i·s_i·A_i), B_new = concat_cols(B_i)
 *   (the weight and scaling go on A, as in PEFT), so ΔW_new = Σ w_i·s_i·B_i·A_i = Σ w_i·ΔW_i.
 * - `'svd'`: ΔW = Σ w_i·ΔW_i (in the weight's layout, conv kernels flattened to `[out, in·kh·kw]`),
 *   factorised by the truncated SVD of `svd.ts`: ΔW ≈ U_k·S_k·V_kᵀ, B_new = U_k·S_k,
 *   A_new = V_kᵀ, k = `svdRank` (default max r_i). Exact when rank(ΔW) ≤ k. Note: PEFT's code
 *   weights `get_delta_weight` (which already includes s_i) by w_i·s_i, i.e. it sums w_i·s_i·ΔW_i;
 *   HyperLab follows the definition Σ w_i·ΔW_i, identical to PEFT when every s_i = 1.
 * - `'linear'` (PEFT's definition, not an exact sum of updates): all r_i must be equal;
 *   A_new = Σ √(w_i·s_i)·A_i, B_new = Σ √(w_i·s_i)·B_i, so
 *   ΔW_new = Σ_i Σ_j √(w_i s_i w_j s_j)·B_i·A_j — the diagonal terms are w_i·ΔW_i, the cross
 *   terms are what makes it an interpolation in factor space rather than in weight space. Needs
 *   every w_i·s_i ≥ 0 (PEFT fails on the square root otherwise).
 *
 * A layer where some adapter is absent gets no contribution from it (zeros in its `cat` slot).
 * The new adapter is added inactive, like any later adapter (see `setActiveAdapters`).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import { findModules } from '../nn/module.js';
import type { Params } from '../params/params.js';
import type { TargetModules } from './config.js';
import { addAdapter, listAdapters, type AdapterRecord } from './framework.js';
import { isAdapterLayer, type AdapterLayer } from './layer.js';
import { loraDelta, loraFactors, type LoraConfig } from './lora.js';
import type { AdapterInstance } from './method.js';
import { subtree } from './param-paths.js';
import { truncatedSvd } from './svd.js';

/** How {@link addWeightedAdapter} combines the adapters. */
export type WeightedCombination = 'linear' | 'cat' | 'svd';

/** Options of {@link addWeightedAdapter}. */
export interface WeightedAdapterOptions {
  /** Rank of the `'svd'` combination. Default: the largest rank among the adapters. */
  svdRank?: number;
}

const COMBINATIONS: readonly WeightedCombination[] = ['linear', 'cat', 'svd'];

function unionTargets(records: AdapterRecord[]): TargetModules {
  const targets = records.map((r) => r.config.targetModules);
  if (targets.every((t): t is string[] => Array.isArray(t))) return [...new Set(targets.flat())];
  // Mixed or regex forms: one regex that matches what any of them matched.
  return targets.map((t) => `(?:${t instanceof RegExp ? t.source : Array.isArray(t) ? t.map(escapeTarget).join('|') : t})`).join('|');
}

/** A list entry as a whole-path regex (an entry matches the path or its `.entry` suffix). */
function escapeTarget(entry: string): string {
  if (/[*?]/.test(entry)) {
    return entry
      .split('**')
      .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]'))
      .join('.*');
  }
  return `(?:.*\\.)?${entry.replace(/[.+^${}()|[\]\\*?]/g, '\\$&')}`;
}

/**
 * Adds LoRA adapter `newName` combining `adapters` with `weights` (see the file header for the
 * exact definitions of `'linear'`, `'cat'` and `'svd'`). Throws, changing nothing, for unknown
 * adapter names, non-LoRA adapters (DoRA, VeRA, …), unequal ranks under `'linear'`, a
 * negative w_i·s_i under `'linear'`, or a combined rank a layer cannot hold.
 */
export function addWeightedAdapter(
  model: Module,
  params: Params,
  adapters: string[],
  weights: number[],
  newName: string,
  combination: WeightedCombination,
  options: WeightedAdapterOptions = {},
): AdapterRecord {
  const where = 'addWeightedAdapter';
  if (!COMBINATIONS.includes(combination)) throw new Error(`${where}: combination must be one of ${COMBINATIONS.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(combination)}`);
  if (!Array.isArray(adapters) || adapters.length === 0) throw new Error(`${where}: give at least one adapter name`);
  if (!Array.isArray(weights) || weights.length !== adapters.length) throw new Error(`${where}: ${adapters.length} adapters but ${weights?.length ?? 0} weights`);
  if (!weights.every((w) => typeof w === 'number' && Number.isFinite(w))) throw new Error(`${where}: weights must be finite numbers, got ${JSON.stringify(weights)}`);
  if (new Set(adapters).size !== adapters.length) throw new Error(`${where}: adapter names repeat: ${adapters.join(', ')}`);
  if (options.svdRank !== undefined && combination !== 'svd') throw new Error(`${where}: svdRank applies to the 'svd' combination only`);
  if (options.svdRank !== undefined && !(Number.isInteger(options.svdRank) && options.svdRank > 0)) throw new Error(`${where}: svdRank must be a positive integer, got ${options.svdRank}`);

  const byName = new Map(listAdapters(model).map((r) => [r.name, r]));
  const unknown = adapters.filter((n) => !byName.has(n));
  if (unknown.length) throw new Error(`${where}: no adapter named ${unknown.map((n) => `'${n}'`).join(', ')} (have: ${[...byName.keys()].join(', ') || 'none'})`);
  const records = adapters.map((n) => byName.get(n)!);
  const notLora = records.filter((r) => r.method.name !== 'lora');
  if (notLora.length) {
    throw new Error(`${where}: combines LoRA adapters only; ${notLora.map((r) => `'${r.name}' is ${r.method.configName.replace(/Config$/, '')}`).join(', ')}`);
  }
  if (byName.has(newName)) throw new Error(`${where}: the model already has an adapter named '${newName}'`);

  const ranks = records.map((r) => (r.config as unknown as LoraConfig).r);
  let newRank: number;
  if (combination === 'linear') {
    if (new Set(ranks).size !== 1) throw new Error(`${where}: 'linear' needs adapters of equal rank, got ${records.map((r, i) => `${r.name}: r = ${ranks[i]}`).join(', ')} (use 'cat' or 'svd')`);
    newRank = ranks[0];
  } else if (combination === 'cat') newRank = ranks.reduce((a, b) => a + b, 0);
  else newRank = options.svdRank ?? Math.max(...ranks);

  // The adapters' instances, layer by layer.
  const wrappers = findModules(model).filter((e) => isAdapterLayer(e.module)).map((e) => ({ path: e.path, wrapper: e.module as AdapterLayer }));
  const sources = (wrapper: AdapterLayer): Array<{ inst: AdapterInstance<LoraConfig> | undefined; weight: number }> =>
    adapters.map((n, i) => ({ inst: wrapper.adapters.get(n) as AdapterInstance<LoraConfig> | undefined, weight: weights[i] }));
  for (const { path, wrapper } of wrappers) {
    const present = sources(wrapper).filter((s) => s.inst);
    if (present.length === 0) continue;
    const { layer } = present[0].inst!;
    const limit = Math.min(layer.inFeatures * layer.kernelSize[0] * layer.kernelSize[1], layer.outFeatures);
    if (newRank > limit) {
      throw new Error(`${where}: '${combination}' gives rank ${newRank}, larger than min(in, out) = ${limit} of layer '${path}'${combination === 'cat' ? " (use 'svd' with an svdRank)" : ''}`);
    }
    if (combination === 'linear') {
      for (const s of present) {
        if (s.weight * (s.inst!.state.scale as number) < 0) throw new Error(`${where}: 'linear' takes √(w·s); adapter '${s.inst!.name}' has w·s = ${s.weight * (s.inst!.state.scale as number)} < 0 (use 'cat' or 'svd')`);
      }
    }
  }

  const first = records[0].config as unknown as LoraConfig;
  const config: LoraConfig = { ...first, r: newRank, loraAlpha: newRank, useRslora: false, initLoraWeights: true, targetModules: unionTargets(records), modulesToSave: [...first.modulesToSave] };
  const record = addAdapter(model, params, config as unknown as Record<string, unknown>, newName);

  for (const { path, wrapper } of findModules(model).filter((e) => isAdapterLayer(e.module)).map((e) => ({ path: e.path, wrapper: e.module as AdapterLayer }))) {
    const target = wrapper.adapters.get(newName);
    if (!target) continue;
    const layerParams = subtree(params, path);
    const { a: aNew, b: bNew } = loraFactors(layerParams, newName) as { a: tf.Variable; b: tf.Variable };
    const all = sources(wrapper);
    let a: tf.Tensor;
    let b: tf.Tensor;
    if (combination === 'cat') {
      [a, b] = tf.tidy(() => {
        const as: tf.Tensor[] = [];
        const bs: tf.Tensor[] = [];
        all.forEach(({ inst, weight }, i) => {
          if (!inst) {
            as.push(tf.zeros([ranks[i], ...aNew.shape.slice(1)]));
            bs.push(tf.zeros([bNew.shape[0], ranks[i], ...bNew.shape.slice(2)]));
            return;
          }
          const f = loraFactors(layerParams, inst.name);
          as.push(tf.mul(f.a, weight * (inst.state.scale as number)));
          bs.push(f.b);
        });
        return [tf.concat(as, 0), tf.concat(bs, 1)];
      });
    } else if (combination === 'linear') {
      [a, b] = tf.tidy(() => {
        let sumA: tf.Tensor = tf.zerosLike(aNew);
        let sumB: tf.Tensor = tf.zerosLike(bNew);
        for (const { inst, weight } of all) {
          if (!inst) continue;
          const f = loraFactors(layerParams, inst.name);
          const c = Math.sqrt(weight * (inst.state.scale as number));
          sumA = tf.add(sumA, tf.mul(f.a, c));
          sumB = tf.add(sumB, tf.mul(f.b, c));
        }
        return [sumA, sumB];
      });
    } else {
      const delta = tf.tidy(() => {
        let sum: tf.Tensor = tf.zeros([bNew.shape[0], aNew.size / newRank]);
        for (const { inst, weight } of all) if (inst) sum = tf.add(sum, tf.mul(tf.reshape(loraDelta(inst, layerParams), [bNew.shape[0], -1]), weight));
        return sum;
      });
      const [rows, cols] = delta.shape;
      const { u, s, vt } = truncatedSvd(delta.dataSync(), rows, cols, newRank);
      delta.dispose();
      const us = new Float32Array(rows * newRank);
      for (let i = 0; i < rows; i++) for (let k = 0; k < newRank; k++) us[i * newRank + k] = u[i * newRank + k] * s[k];
      b = tf.tensor(us, bNew.shape);
      a = tf.tensor(Float32Array.from(vt), aNew.shape);
    }
    aNew.assign(a);
    bNew.assign(b);
    tf.dispose([a, b]);
  }
  return record;
}
