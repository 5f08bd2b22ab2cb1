/**
 * Sequential composition: children applied in insertion order, params under the children's names.
 * Names are given (`{ encoder: …, head: … }`) or, for an array, are the indices `'0'`, `'1'`, …
 * (PyTorch's `nn.Sequential` naming, activations included).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import { initChildren, type ApplyContext, type Module } from './module.js';
import { paramChild } from './param-lookup.js';

/** A sequential composition. */
export interface SequentialModule extends Module {
  /** Always `'sequential'`. */
  readonly kind: 'sequential';
  /** The layers by name, in application order; adapters may replace entries (not add or remove). */
  readonly children: Record<string, Module>;
}

/**
 * Composes modules: `apply` feeds each child's output to the next, looking children up in
 * `this.children` at call time. `init(rng)` gives each child `rng.fork(name)`.
 */
export function sequential(layers: Module[] | Record<string, Module>): SequentialModule {
  const entries: Array<[string, Module]> = Array.isArray(layers) ? layers.map((m, i) => [String(i), m]) : Object.entries(layers);
  if (entries.length === 0) throw new Error('sequential: needs at least one layer');
  for (const [name, m] of entries) {
    if (name === '' || name.includes('.')) throw new Error(`sequential: layer name '${name}' must be non-empty and contain no '.' (it is a params path segment)`);
    if (typeof m?.apply !== 'function' || typeof m?.init !== 'function') throw new Error(`sequential: layer '${name}' is not a module`);
  }
  const children: Record<string, Module> = Object.fromEntries(entries);
  const names = entries.map(([name]) => name);
  const self: SequentialModule = {
    kind: 'sequential',
    children,
    init(rng: Rng): Params {
      return initChildren((this ?? self).children, names, rng);
    },
    apply(params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      const current = (this ?? self).children;
      return tf.tidy(() => names.reduce((h, name) => current[name].apply(paramChild(params, name, 'sequential'), h, ctx), x));
    },
  };
  return self;
}
