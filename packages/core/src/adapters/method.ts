/**
 * The interface every adapter method implements (one file per method: `lora.ts`, `dora.ts`,
 * `vera.ts`, `ia3.ts`), and what a method sees of the layer it adapts. The framework
 * (`framework.ts`) does the rest — matching targets, freezing, wrapping, naming, activation,
 * merging across layers, saving — the same way for every method.
 *
 * Param layout (PEFT's, so keys map directly): a method's per-layer leaves live under the layer's
 * path as `<key>.<adapterName>[.<rest>]` (`0.lora_A.default.weight`, `0.ia3_l.default`); shared
 * leaves live at the root as `<key>.<adapterName>` (`vera_A.default`). Saved PEFT keys drop the
 * adapter name: `base_model.model.0.lora_A.weight`, `base_model.vera_A`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Module, ApplyContext } from '../nn/module.js';
import type { Params } from '../params/params.js';
import type { Rng } from '../random.js';
import type { LinearModule } from '../nn/linear.js';
import type { Conv2dModule } from '../nn/conv2d.js';
import type { BaseAdapterConfig, ConfigSchema } from './config.js';
import type { AdapterTrainingHooks, TrainingHooksContext } from './training-hooks.js';

/** The base layer an adapter is injected into. */
export interface LayerInfo {
  /** Dotted module path (`'0'`, `'self_attn.q_proj'`). */
  path: string;
  /** The base module. */
  module: LinearModule | Conv2dModule;
  /** `'linear'` or `'conv2d'`. */
  kind: 'linear' | 'conv2d';
  /** Input features (channels for conv2d). */
  inFeatures: number;
  /** Output features (channels for conv2d). */
  outFeatures: number;
  /** `[kh, kw]` for conv2d, `[1, 1]` for linear. */
  kernelSize: [number, number];
  /** What the method does at this layer, when it adapts several layers of a module differently (from {@link AdapterMethod.expandTarget}). */
  role?: string;
  /** State shared by the layers one {@link AdapterMethod.expandTarget} call returned together. */
  link?: Record<string, unknown>;
}

/** One layer {@link AdapterMethod.expandTarget} selects inside a matched module. */
export interface ExpandedTarget {
  /** Full dotted path of a linear or conv2d layer. */
  path: string;
  /** Becomes {@link LayerInfo.role}. */
  role?: string;
  /** Becomes {@link LayerInfo.link} (pass the same object to layers that cooperate). */
  link?: Record<string, unknown>;
}

/** The {@link LayerInfo} of a module an adapter can wrap, or undefined. */
export function layerInfo(module: Module, path: string): LayerInfo | undefined {
  if (module.kind === 'linear') {
    const m = module as LinearModule;
    return { path, module: m, kind: 'linear', inFeatures: m.inFeatures, outFeatures: m.outFeatures, kernelSize: [1, 1] };
  }
  if (module.kind === 'conv2d') {
    const m = module as Conv2dModule;
    return { path, module: m, kind: 'conv2d', inFeatures: m.inChannels, outFeatures: m.outChannels, kernelSize: [...m.kernelSize] };
  }
  return undefined;
}

/** One adapter on one layer. */
export interface AdapterInstance<C extends BaseAdapterConfig = BaseAdapterConfig> {
  /** The adapter's name (`'default'`). */
  readonly name: string;
  /** Its method. */
  readonly method: AdapterMethod<C>;
  /** Its validated config. */
  readonly config: C;
  /** The layer. */
  readonly layer: LayerInfo;
  /** Method-specific state (scaling, shared tensors, what merge cached). */
  state: Record<string, unknown>;
}

/** What `init` receives. */
export interface InitContext<C> {
  /** The layer. */
  layer: LayerInfo;
  /** The layer's params (base weight and bias; PiSSA may rewrite the weight in place). */
  params: Params;
  /** Validated config. */
  config: C;
  /** The adapter's name. */
  name: string;
  /** This layer's stream (`rng.fork(path)`). */
  rng: Rng;
  /** Shared leaves created by `createShared` (by key, e.g. `vera_A`). */
  shared: Record<string, tf.Variable>;
}

/** An adapter method. */
export interface AdapterMethod<C extends BaseAdapterConfig = BaseAdapterConfig> {
  /** Registry key and wrapper kind (`'lora'`). */
  readonly name: string;
  /** Name of the config in messages (`'LoraConfig'`). */
  readonly configName: string;
  /** One line for menus and listings: what it is and its paper (`'LoRA: low-rank updates (Hu et al. 2021)'`). */
  readonly description?: string;
  /** PEFT's `peft_type` (`'LORA'`). */
  readonly peftType: string;
  /** Module kinds it adapts. */
  readonly supportedKinds: readonly string[];
  /** Whether {@link merge} is possible. */
  readonly mergeable: boolean;
  /** Param keys it owns, per layer or shared (`lora_A`, `vera_A`); used to group leaves by module. */
  readonly paramKeys: readonly string[];
  /** The config fields. */
  readonly schema: ConfigSchema;
  /** Cross-field checks after {@link schema} (optional). */
  checkConfig?(config: C): void;
  /**
   * For a matched module of a supported kind that is not itself a layer (a transformer block), the
   * layers inside it to adapt; undefined adapts the module itself (linear / conv2d).
   */
  expandTarget?(config: C, module: Module, path: string): ExpandedTarget[] | undefined;
  /** Throws, naming the layer, when the config cannot apply to it (rank too large…). */
  checkLayer?(config: C, layer: LayerInfo): void;
  /** Frozen or trainable leaves shared by every layer, by key (stored at the root as `<key>.<name>`). */
  createShared?(config: C, layers: LayerInfo[], name: string): Record<string, tf.Variable>;
  /** Creates the layer's leaves, by path relative to the layer (`lora_A.<name>.weight`), and state. */
  init(ctx: InitContext<C>): { leaves: Record<string, tf.Variable>; state?: Record<string, unknown> };
  /** Transforms the layer input before the base runs (IA3 on feed-forward layers). */
  transformInput?(inst: AdapterInstance<C>, params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor;
  /**
   * The layer output after this adapter, given the output so far `y`, the base output `yBase`
   * and the (possibly transformed) input `x`.
   */
  transformOutput?(inst: AdapterInstance<C>, params: Params, x: tf.Tensor, y: tf.Tensor, yBase: tf.Tensor, ctx?: ApplyContext): tf.Tensor;
  /** Folds the adapter into the base weight in place. */
  merge?(inst: AdapterInstance<C>, params: Params): void;
  /** Undoes {@link merge}. */
  unmerge?(inst: AdapterInstance<C>, params: Params): void;
  /** True for leaves `saveAdapter` leaves out (VeRA's projections with `saveProjection: false`). */
  omitFromSave?(config: C, peftKey: string): boolean;
  /** The config as PEFT's `adapter_config.json` fields (snake_case), without the common ones. */
  toPeft(config: C): Record<string, unknown>;
  /** A config from PEFT's `adapter_config.json` fields. */
  fromPeft(json: Record<string, unknown>): Record<string, unknown>;
  /**
   * What the method does inside `train()` (AdaLoRA's rank allocator and orthogonal penalty), for
   * the adapter `ctx.adapterName`; undefined when nothing. Collected by `adapterTrainingHooks`.
   */
  trainingHooks?(ctx: TrainingHooksContext): AdapterTrainingHooks | undefined;
}
