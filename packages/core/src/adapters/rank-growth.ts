/**
 * What the rank-growing adapters share: IncreLoRA (`increlora.ts`) and TriAdaptLoRA
 * (`triadaptlora.ts`) start every layer at `initR` and add rank to chosen layers during training,
 * up to a total budget of targetR·n ranks (n adapted layers), on a schedule.
 *
 * **Growth by unmasking.** `train()` collects the trainable variables once, and the optimizers
 * (`train/optimizers.ts`) key their slots — momentum, Adam's moments, the per-variable step — by
 * `tf.Variable`, with fixed shapes. So a layer's factors are allocated at their largest rank
 * (`maxR` slots, at most min(in, out)) when the adapter is added, and a layer of rank r uses the
 * first r slots: the forward masks the others out (so their gradients are exactly 0 and the
 * optimizer leaves them where they are), and growing is unmasking the next slot. No variable is
 * created, replaced or reshaped, so growth works with every optimizer and with `train()` as it is.
 * (The alternative — new variables per growth and optimizer state copied across — would need
 * `train()` to re-read its variable list and the optimizers to adopt slots.) The cost is memory:
 * maxR·(in + out) entries per layer whatever the rank, and `trainableParameters` counts the
 * allocated entries; the hooks' `activeParams` metric counts those in use.
 *
 * The current rank of each layer is the non-trainable leaf `ranknum.<name>` (`[1]`; saved as
 * `base_model.model.<path>.ranknum`, as IncreLoRA's reference code keeps `ranknum` in its state
 * dict), and the forward reads it, so a saved and reloaded adapter has its grown ranks.
 *
 * Schedule (shared): growth may happen at steps t (0-based, `train()`'s step) with
 * tinit < t < totalStep − tfinal and t % deltaT = 0; from t = totalStep − tfinal on (or once the
 * budget is spent) the ranks are final. Merging is refused while a layer can still grow.
 */
import * as tf from '@tensorflow/tfjs-core';
import { findModules, type Module } from '../nn/module.js';
import { variable, type Params } from '../params/params.js';
import { configFromPeft, fields, type BaseAdapterConfig, type ConfigSchema, type FieldSpec } from './config.js';
import type { AdapterInstance, AdapterMethod, LayerInfo } from './method.js';
import { describeTargets } from './targets.js';
import { assignTo, tensorAt } from './param-paths.js';
import { isAdapterLayer } from './layer.js';
import { getAdapter } from './framework.js';

/** The config fields every growing method has. */
export interface GrowthConfig extends BaseAdapterConfig {
  /** Rank of every layer at the start. */
  initR: number;
  /** Average rank per layer once the budget is spent: the budget is targetR·n ranks. */
  targetR: number;
  /** Slots allocated per layer (the largest rank a layer can reach; capped at min(in, out)). Default 2·targetR. */
  maxR?: number;
  /** Warm-up steps before any growth. */
  tinit: number;
  /** Final steps at fixed ranks. */
  tfinal: number;
  /** Steps between two growth rounds. */
  deltaT: number;
  /** Total training steps (growth stops at totalStep − tfinal). */
  totalStep: number;
  /** s in the update's scale. */
  loraAlpha: number;
  /** Dropout on the adapter's input (training only). */
  loraDropout: number;
}

const nonNegativeInt = (def: number): FieldSpec => ({ ...fields.integer(def), expected: 'an integer ≥ 0', check: (v) => Number.isInteger(v) && (v as number) >= 0, json: { type: 'integer', minimum: 0 } });

/** The {@link GrowthConfig} fields with these defaults (after `baseFields`). */
export function growthFields(defaults: { initR: number; targetR: number; deltaT: number; loraAlpha: number }): ConfigSchema {
  return {
    initR: fields.positiveInt(defaults.initR),
    targetR: fields.positiveInt(defaults.targetR),
    maxR: { ...fields.positiveInt(), optional: true },
    tinit: nonNegativeInt(0),
    tfinal: nonNegativeInt(0),
    deltaT: fields.positiveInt(defaults.deltaT),
    totalStep: fields.positiveInt(),
    loraAlpha: fields.number(defaults.loraAlpha),
    loraDropout: fields.probability(0),
  };
}

/** Slots per layer before the min(in, out) cap: `maxR`, default 2·targetR. */
export function slotsOf(config: GrowthConfig): number {
  return config.maxR ?? 2 * config.targetR;
}

/** Cross-field checks of a growth config. */
export function checkGrowthConfig(configName: string, config: GrowthConfig): void {
  if (config.tinit >= config.totalStep - config.tfinal) {
    throw new Error(`${configName}: tinit (${config.tinit}) must be below totalStep − tfinal (${config.totalStep} − ${config.tfinal}): the schedule leaves no step to grow at`);
  }
  if (config.targetR < config.initR) throw new Error(`${configName}.targetR (${config.targetR}) must be at least initR (${config.initR}): ranks only grow`);
  if (slotsOf(config) < config.initR) throw new Error(`${configName}.maxR (${slotsOf(config)}) must be at least initR (${config.initR})`);
}

/** The slots allocated at `layer`: min(maxR, in, out). */
export function layerSlots(config: GrowthConfig, layer: LayerInfo): number {
  return Math.min(slotsOf(config), layer.inFeatures, layer.outFeatures);
}

/** Throws, naming the layer, when initR does not fit it. */
export function checkGrowthLayer(configName: string, config: GrowthConfig, layer: LayerInfo): void {
  const limit = Math.min(layer.inFeatures, layer.outFeatures);
  if (config.initR > limit) throw new Error(`${configName}.initR = ${config.initR} is larger than min(in, out) = ${limit} of layer '${layer.path}' (linear ${layer.inFeatures} → ${layer.outFeatures})`);
}

/** The `ranknum.<name>` leaf of a layer (non-trainable, `[1]`, holding initR). */
export function ranknumLeaf(layer: LayerInfo, name: string, initR: number): tf.Variable {
  return variable(tf.tensor1d([initR]), `${layer.path}.ranknum.${name}`, false);
}

/** `[slots, 1]` of 0/1: 1 at the slots below `ranknum` (the layer's rank), in the graph. */
export function activeSlots(ranknum: tf.Tensor, slots: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.less(tf.reshape(tf.range(0, slots), [slots, 1]), tf.reshape(ranknum, [1, 1])), 'float32'));
}

/** True when `step` is a growth step of the schedule. */
export function isGrowthStep(config: Pick<GrowthConfig, 'tinit' | 'tfinal' | 'totalStep' | 'deltaT'>, step: number): boolean {
  return step > config.tinit && step < config.totalStep - config.tfinal && step % config.deltaT === 0;
}

/** What a growing method keeps in each instance's state while its hooks run. */
export interface GrowthState {
  [key: string]: unknown;
  /** Set by the growth hooks while ranks can still change. */
  grower?: { readonly growing: boolean; readonly lastStep: number | undefined };
}

/** Throws when the layer's ranks can still grow (merging then would fold a ΔW that is about to change). */
export function checkNotGrowing(inst: AdapterInstance<GrowthConfig>, caller: string, label: string): void {
  const grower = (inst.state as GrowthState).grower;
  if (grower?.growing) {
    const end = inst.config.totalStep - inst.config.tfinal;
    throw new Error(
      `${caller}: ${label} adapter '${inst.name}' cannot be merged while its ranks are still growing ` +
        `(last step ${grower.lastStep ?? 'none'}; the ranks are final at step totalStep − tfinal = ${end} or once the budget is spent); ` +
        'train to the end of the schedule or dispose() the hooks first',
    );
  }
}

/** One layer of a growing adapter, as the growth hooks see it. */
export interface GrowingLayer<C extends GrowthConfig = GrowthConfig> {
  path: string;
  inst: AdapterInstance<C>;
  /** The layer's leaves, by key (`lora_A`, `lora_B`, `lora_E`, `ranknum`). */
  leaves: Record<string, tf.Variable>;
  /** Slots allocated (the largest rank it can reach). */
  slots: number;
  /** Its current rank (the `ranknum` leaf's value). */
  rank: number;
}

/** The layers of adapter `name` (of method `method`), with the leaves `keys` (which include `lora_A` `[slots, in]` and `ranknum`). */
function growingLayers<C extends GrowthConfig>(model: Module, name: string, method: string, keys: readonly string[]): GrowingLayer<C>[] {
  const record = getAdapter(model, name);
  if (record.method.name !== method) throw new Error(`${method}: adapter '${name}' is ${record.method.configName}, not a ${method} adapter`);
  const leaf = (path: string): tf.Variable => record.leaves.find((l) => l.path === path)!.variable;
  const out: GrowingLayer<C>[] = [];
  for (const { module, path } of findModules(model)) {
    if (!isAdapterLayer(module)) continue;
    const inst = module.adapters.get(name) as AdapterInstance<C> | undefined;
    if (!inst) continue;
    const leaves = Object.fromEntries(keys.map((key) => [key, leaf(`${path}.${key}.${name}`)]));
    out.push({ path, inst, leaves, slots: leaves.lora_A.shape[0], rank: Math.round(leaves.ranknum.dataSync()[0]) });
  }
  return out;
}

/** Sets a layer's rank (its `ranknum` leaf). */
export function setRank(layer: GrowingLayer, rank: number): void {
  layer.rank = rank;
  const value = tf.tensor1d([rank]);
  layer.leaves.ranknum.assign(value);
  value.dispose();
}

/**
 * One growing adapter during training; each method's growth extends it. It holds the layers (ranks
 * read from their `ranknum` leaves), the budget, the last step seen and whether the ranks are
 * final; while it lives, merging the adapter is refused until they are ({@link checkNotGrowing}).
 */
export abstract class GrowthRun<C extends GrowthConfig> {
  /** The adapter's layers, in model order. */
  readonly layers: GrowingLayer<C>[];
  /** The adapter's config. */
  readonly config: C;
  /** Σ ranks never exceeds it: targetR·n, or the allocated slots when they hold fewer. */
  readonly budget: number;
  /** The first step with final ranks: totalStep − tfinal. */
  readonly end: number;
  /** The last step seen (undefined before the first). */
  protected seen: number | undefined;
  /** True once the ranks are final. */
  protected done = false;

  constructor(model: Module, name: string, method: string, keys: readonly string[], private readonly label: string) {
    this.layers = growingLayers<C>(model, name, method, keys);
    this.config = this.layers[0].inst.config;
    this.budget = Math.min(this.config.targetR * this.layers.length, this.layers.reduce((n, l) => n + l.slots, 0));
    this.end = this.config.totalStep - this.config.tfinal;
    for (const l of this.layers) (l.inst.state as GrowthState).grower = this;
  }

  /** True from the first step until the ranks are final. */
  get growing(): boolean {
    return this.seen !== undefined && !this.done;
  }

  /** The last step seen. */
  get lastStep(): number | undefined {
    return this.seen;
  }

  /** Σ ranks. */
  total(): number {
    return this.layers.reduce((n, l) => n + l.rank, 0);
  }

  /** Each layer's rank, by path. */
  ranks(): Record<string, number> {
    return Object.fromEntries(this.layers.map((l) => [l.path, l.rank]));
  }

  /** Entries in use at a layer of its rank (the `activeParams` metric). */
  protected abstract activeParams(layer: GrowingLayer<C>): number;

  /** The line after training: `<label> ranks after growth (used of a budget of b): 0: 3, 1: 5`. */
  summary(): string[] {
    return [`${this.label} ranks after growth (${this.total()} of a budget of ${this.budget}): ${this.layers.map((l) => `${l.path}: ${l.rank}`).join(', ')}`];
  }

  /** `keptRank` (Σ ranks) and `activeParams` (the entries in use). */
  metrics(): Record<string, number> {
    return { keptRank: this.total(), activeParams: this.layers.reduce((n, l) => n + this.activeParams(l), 0) };
  }

  /** Lets the adapter merge again (subclasses also free their own state). */
  dispose(): void {
    for (const l of this.layers) if ((l.inst.state as GrowthState).grower === this) delete (l.inst.state as GrowthState).grower;
  }
}

/** PEFT-style (snake_case) names of the {@link GrowthConfig} fields in `adapter_config.json`. */
const growthPeftNames: Record<string, string> = {
  initR: 'init_r',
  targetR: 'target_r',
  maxR: 'max_r',
  tinit: 'tinit',
  tfinal: 'tfinal',
  deltaT: 'deltaT',
  totalStep: 'total_step',
  loraAlpha: 'lora_alpha',
  loraDropout: 'lora_dropout',
};

/** `adapter_config.json` fields of a growth config: the shared ones and `extra` (HyperLab name → saved name). */
export function growthToPeft(config: GrowthConfig, extra: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [ours, peft] of Object.entries({ ...growthPeftNames, ...extra })) out[peft] = (config as unknown as Record<string, unknown>)[ours] ?? null;
  return { ...out, target_modules: describeTargets(config.targetModules), modules_to_save: config.modulesToSave.length ? config.modulesToSave : null };
}

/** The inverse of {@link growthToPeft}: a config (to validate) of method `method` from the saved fields. */
export function growthFromPeft(method: string, json: Record<string, unknown>, extra: Record<string, string>): Record<string, unknown> {
  return configFromPeft(method, json, Object.fromEntries(Object.entries({ ...growthPeftNames, ...extra }).map(([ours, peft]) => [peft, ours])));
}

/**
 * The method members every growing method has the same way: its names, linear layers, the
 * cross-field and per-layer checks, merge (refused while growing) and unmerge of `delta`, and the
 * saved config with `peftNames` (the method's own fields, HyperLab name → saved name) beside the
 * shared growth fields.
 */
export function growthMethodParts<C extends GrowthConfig>(options: {
  method: string;
  configName: string;
  peftType: string;
  schema: ConfigSchema;
  label: string;
  peftNames: Record<string, string>;
  delta: (inst: AdapterInstance<C>, params: Params) => tf.Tensor;
}): Pick<AdapterMethod<C>, 'name' | 'configName' | 'peftType' | 'supportedKinds' | 'mergeable' | 'schema' | 'checkLayer' | 'merge' | 'unmerge' | 'toPeft' | 'fromPeft'> & { checkConfig(config: C): void } {
  const { method, configName, label, peftNames, delta } = options;
  return {
    name: method,
    configName,
    peftType: options.peftType,
    supportedKinds: ['linear'],
    mergeable: true,
    schema: options.schema,
    checkConfig: (config) => checkGrowthConfig(configName, config),
    checkLayer: (config, layer) => checkGrowthLayer(configName, config, layer),
    merge(inst, params) {
      checkNotGrowing(inst, 'merge', label);
      foldIntoWeight(params, method, () => delta(inst, params), 1);
    },
    unmerge: (inst, params) => foldIntoWeight(params, method, () => delta(inst, params), -1),
    toPeft: (config) => growthToPeft(config, peftNames),
    fromPeft: (json) => growthFromPeft(method, json, peftNames),
  };
}

/** Adds sign·`delta()` to the layer's base weight in place (merge: +1, unmerge: −1). */
export function foldIntoWeight(params: Params, owner: string, delta: () => tf.Tensor, sign: 1 | -1): void {
  const weight = tensorAt(params, 'weight', owner) as tf.Variable;
  assignTo(weight, () => tf.add(weight, tf.mul(delta(), sign)));
}
