/**
 * The wrapper module that replaces an adapted layer in its parent's `children`: kind `'lora'`,
 * `'ia3'`, …; it keeps the base module and, at apply time, runs the active, unmerged adapters of
 * the layer around the base forward. It reads the same params subtree as the base (the base's
 * `weight`/`bias` plus the adapters' `lora_A.<name>` … entries), so Params paths are unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';
import type { ApplyContext, Module } from '../nn/module.js';
import type { AdapterInstance, LayerInfo } from './method.js';

/** Activation state shared by every wrapper of one model. */
export interface ActivationState {
  /** Names of the active adapters, in the order they run. */
  active: string[];
  /** When true, every wrapper runs the base alone. */
  disabled: boolean;
}

/** A layer with adapters. */
export interface AdapterLayer extends Module {
  /** Marks wrappers (for {@link isAdapterLayer}). */
  readonly adapterLayer: true;
  /** The method name (`'lora'`); one method per layer. */
  readonly kind: string;
  /** The wrapped base module. */
  readonly base: Module;
  /** Its description (path, sizes). */
  readonly layer: LayerInfo;
  /** This layer's adapters by name. */
  readonly adapters: Map<string, AdapterInstance<any>>;
  /** Names of adapters currently folded into the base weight, in merge order. */
  readonly merged: string[];
  /** The model-wide activation state. */
  readonly activation: ActivationState;
}

/** True for an adapter wrapper. */
export function isAdapterLayer(module: Module | undefined): module is AdapterLayer {
  return (module as AdapterLayer | undefined)?.adapterLayer === true;
}

/** Wraps `layer.module` for adapters of method `kind`. */
export function adapterLayer(kind: string, layer: LayerInfo, activation: ActivationState): AdapterLayer {
  const base = layer.module;
  const wrapper: AdapterLayer = {
    adapterLayer: true,
    kind,
    base,
    layer,
    adapters: new Map(),
    merged: [],
    activation,
    init(rng: Rng): Params {
      return base.init(rng);
    },
    apply(params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
      if (activation.disabled) return base.apply(params, x, ctx);
      const running = activation.active
        .filter((name) => !wrapper.merged.includes(name))
        .map((name) => wrapper.adapters.get(name))
        .filter((inst): inst is AdapterInstance<any> => inst !== undefined);
      if (running.length === 0) return base.apply(params, x, ctx);
      return tf.tidy(() => {
        let input = x;
        for (const inst of running) if (inst.method.transformInput) input = inst.method.transformInput(inst, params, input, ctx);
        const yBase = base.apply(params, input, ctx);
        let y = yBase;
        for (const inst of running) if (inst.method.transformOutput) y = inst.method.transformOutput(inst, params, input, y, yBase, ctx);
        return y;
      });
    },
  };
  return wrapper;
}
