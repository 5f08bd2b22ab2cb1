/**
 * Multi-layer perceptron: linears named `'0'`, `'1'`, … with an activation (and optional dropout)
 * between them, none after the last. Params live under the children's names (`0.weight`,
 * `1.bias`), so `setTrainable(params, ['0.*'], false)` or a LoRA target `'0'` address one layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import { initChildren, type ApplyContext, type Module } from './module.js';
import { linear } from './linear.js';
import { dropout as applyDropout, getActivation, type ActivationName } from './activations.js';
import { paramChild } from './param-lookup.js';

/** Arguments of {@link mlp}. */
export interface MlpArgs {
  /** Layer widths including input and output, e.g. `[784, 100, 10]` (two linears); at least two. */
  sizes: number[];
  /** Activation between layers (not after the last). Default `'relu'`. */
  activation?: ActivationName;
  /** Dropout rate after each hidden activation (active only in training). Default 0. */
  dropout?: number;
  /** Whether the linears have biases. Default true. */
  bias?: boolean;
}

/** A multi-layer perceptron. */
export interface MlpModule extends Module {
  /** Always `'mlp'`. */
  readonly kind: 'mlp';
  /** The linears by name (`'0'`, `'1'`, …); adapters may replace entries. */
  readonly children: Record<string, Module>;
  /** Layer widths including input and output. */
  readonly sizes: readonly number[];
  /** Activation between layers. */
  readonly activation: ActivationName;
  /** Dropout rate after each hidden activation. */
  readonly dropout: number;
}

/**
 * An MLP of `sizes.length − 1` linears. `init(rng)` gives each layer the stream `rng.fork(name)`,
 * so a layer's initial values do not depend on the others. `apply` looks each child up in
 * `this.children` at call time, so a child replaced by an adapter is the one that runs.
 */
export function mlp(args: MlpArgs): MlpModule {
  const { sizes, activation = 'relu', dropout = 0, bias = true } = args;
  if (!Array.isArray(sizes) || sizes.length < 2) throw new Error(`mlp: sizes needs at least an input and an output width, got [${String(sizes)}]`);
  if (!(dropout >= 0 && dropout <= 1)) throw new RangeError(`mlp: dropout must be in [0, 1], got ${dropout}`);
  const act = getActivation(activation);
  const children: Record<string, Module> = {};
  for (let i = 0; i + 1 < sizes.length; i++) children[String(i)] = linear({ inFeatures: sizes[i], outFeatures: sizes[i + 1], bias });
  const names = Object.keys(children);
  const self: MlpModule = {
    kind: 'mlp',
    children,
    sizes: [...sizes],
    activation,
    dropout,
    init(rng: Rng): Params {
      return initChildren((this ?? self).children, names, rng);
    },
    apply(params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      const current = (this ?? self).children;
      return tf.tidy(() => {
        let h = x;
        names.forEach((name, i) => {
          h = current[name].apply(paramChild(params, name, 'mlp'), h, ctx);
          if (i < names.length - 1) h = applyDropout(act(h), dropout, ctx);
        });
        return h;
      });
    },
  };
  return self;
}
