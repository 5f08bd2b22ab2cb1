/**
 * The scaled parallel adapter and the MAM adapter.
 *
 * Paper: Junxian He, Chunting Zhou, Xuezhe Ma, Taylor Berg-Kirkpatrick, Graham Neubig (2022),
 * "Towards a Unified View of Parameter-Efficient Transfer Learning", ICLR 2022, arXiv:2110.04366.
 *
 * **Scaled parallel adapter.** A bottleneck f(x) = act(x·W_downᵀ + b_down)·W_upᵀ + b_up run beside
 * a frozen sub-layer, reading the sub-layer's input and added to its output with a scale s:
 * h ← h + s·f(x). He et al. found it best on the feed-forward network (FFN) with s = 4. The
 * bottleneck method (`bottleneck.ts`) already computes exactly this with `placement: 'parallel'`
 * and `scaling`; `parallel_adapter` is that method with the placement fixed and s = 4 by default —
 * the same layers, leaves, initialisation (W_up = 0: the base exactly at init) and saved layout
 * (`peft_type: "BOTTLENECK"`, `placement: "parallel"`, which loads back as a bottleneck adapter).
 * On a transformer encoder block (matched by `targetModules`) the adapter reads the FFN input u
 * (linear1's input) and adds to linear2's output, y = FFN(u) + s·f(u), before the residual; on a
 * linear layer matched directly, y = W·x + b + s·f(x).
 *
 * **MAM ("mix-and-match") adapter**: prefix tuning on the attention (He et al.: 30 prefix vectors
 * per layer) plus the scaled parallel adapter on the FFN (bottleneck 512, s = 4), the combination
 * the paper found best. {@link addMamAdapter} adds both, mapped onto HyperLab's modules as:
 * - attention: every `multi_head_attention` module inside `prefixModule` (default the root) gets
 *   learned keys and values (`prefix-tuning.ts`, PEFT's prefix tuning; `prefixProjection` for the
 *   reparameterisation, off by default);
 * - FFN: the parallel adapter on `targetModules` — transformer encoder blocks (their FFN, as above)
 *   or linear layers;
 * - a model without attention (an MLP) has nowhere to put prefixes: `addMamAdapter` throws and
 *   names the explicit choice, `numVirtualTokens: 0`, which asks for the parallel adapter alone —
 *   what MAM reduces to without attention. Nothing is degraded silently.
 * The prefixes are not mergeable, so MAM is not (merging is refused by the parallel adapter).
 * MAM is registered as a whole-model method (`method: mam` in `%%adapter`): it is two methods at
 * once, one of them a wrapper rather than an injected layer, and a whole-model method may hand
 * back the module to train.
 *
 * Saving writes two PEFT-layout folders, each loadable on its own: `<dir>/parallel_adapter/`
 * (`saveAdapter`) and, with prefixes, `<dir>/prefix_tuning/` (`savePromptLearning`);
 * {@link loadMamAdapter} reads both. Trainable count: the parallel adapter's (per FFN of width d
 * and bottleneck m: 2·d·m + m + d; on a linear in → out: in·m + m + m·out + out) plus the
 * prefixes' n·L·2·E (L attention layers of width E; with the projection see `prefix-tuning.ts`).
 *
 * Where HyperLab differs from the paper: the paper's models are encoder-decoder and decoder
 * transformers (prefixes on every attention, cross-attention included); HyperLab's blocks are
 * encoder blocks with self-attention only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findModules, type Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import { Rng } from '../random.js';
import type { MultiHeadAttentionModule } from '../nn/attention.js';
import { baseFields, fields, validateConfig, type ConfigSchema, type FieldSpec, type TargetModules } from './config.js';
import type { AdapterMethod } from './method.js';
import { bottleneck, type BottleneckConfig } from './bottleneck.js';
import { addAdapter, deleteAdapter, type AdapterRecord } from './framework.js';
import { addPrefixTuning, loadPrefixTuning } from './prefix-tuning.js';
import { savePromptLearning, type PromptLearningRecord } from './prompt-learning.js';
import { loadAdapter, saveAdapter } from './save.js';
import { registerWholeModelMethod } from './training-hooks.js';

/** The scaled parallel adapter's configuration: a bottleneck config with `placement: 'parallel'`. */
export interface ParallelAdapterConfig extends Omit<BottleneckConfig, 'method' | 'placement'> {
  method: 'parallel_adapter';
  /** Always `'parallel'`. */
  placement: 'parallel';
}

/** What {@link parallelAdapterConfig} accepts (`scaling` defaults to 4). */
export type ParallelAdapterConfigInput = Partial<Omit<ParallelAdapterConfig, 'method' | 'targetModules' | 'placement'>> & { targetModules: TargetModules };

const parallelSchema: ConfigSchema = {
  ...bottleneck.schema,
  ...baseFields('parallel_adapter'),
  placement: fields.fixed('parallel', 'the scaled parallel adapter'),
  scaling: fields.number(4),
};

/** The scaled parallel adapter: the bottleneck method in He et al.'s parallel placement, s = 4 by default. */
export const parallelAdapter: AdapterMethod<ParallelAdapterConfig & BottleneckConfig> = {
  ...(bottleneck as AdapterMethod<any>),
  name: 'parallel_adapter',
  configName: 'ParallelAdapterConfig',
  description: 'Scaled parallel adapter: a bottleneck beside the FFN, h + s·f(x), s = 4 (He et al. 2022)',
  schema: parallelSchema,
};

/** A validated scaled-parallel-adapter config. */
export function parallelAdapterConfig(input: ParallelAdapterConfigInput): ParallelAdapterConfig {
  const config = validateConfig<ParallelAdapterConfig & BottleneckConfig>('ParallelAdapterConfig', parallelSchema, { method: 'parallel_adapter', ...input });
  parallelAdapter.checkConfig?.(config);
  return config;
}

/** The MAM adapter's configuration. */
export interface MamAdapterConfig {
  method: 'mam';
  /** The FFNs of the parallel adapter: transformer encoder blocks or linear layers. */
  targetModules: TargetModules;
  /** Modules trained in full. Default none. */
  modulesToSave: string[];
  /** Parallel adapter bottleneck width m (exclusive with `reductionFactor`). */
  bottleneckSize?: number;
  /** m = ⌊d / reductionFactor⌋ (default 16 when neither is given). */
  reductionFactor?: number;
  /** The adapter's non-linearity. Default `'relu'`. */
  nonLinearity: 'relu' | 'gelu';
  /** The parallel adapter's scale s. Default 4. */
  scaling: number;
  /** Parallel adapter initialisation. Default `'zeros'` (the base at init). */
  initWeights: 'bert' | 'zeros';
  /** Prefix length per attention layer; 0: no prefixes (the parallel adapter alone). Default 30. */
  numVirtualTokens: number;
  /** Reparameterise the prefixes through an MLP. Default false. */
  prefixProjection: boolean;
  /** Hidden width of that MLP. Default the attention width. */
  encoderHiddenSize?: number;
  /** Path of the module whose attention layers get prefixes. Default '' (the root). */
  prefixModule: string;
}

/** What {@link mamAdapterConfig} accepts. */
export type MamAdapterConfigInput = Partial<Omit<MamAdapterConfig, 'method' | 'targetModules'>> & { targetModules: TargetModules };

const nonNegativeInt = (def: number): FieldSpec => ({ expected: 'a non-negative integer', check: (v) => Number.isInteger(v) && (v as number) >= 0, default: def, json: { type: 'integer', minimum: 0 } });
const FFN_KEYS = ['targetModules', 'modulesToSave', 'bottleneckSize', 'reductionFactor', 'nonLinearity', 'scaling', 'initWeights'] as const;

const mamSchema: ConfigSchema = {
  method: fields.fixed('mam', 'the method'),
  ...Object.fromEntries(FFN_KEYS.map((key) => [key, parallelSchema[key]])),
  numVirtualTokens: nonNegativeInt(30),
  prefixProjection: fields.boolean(false),
  encoderHiddenSize: { ...fields.positiveInt(), optional: true },
  prefixModule: fields.string(''),
};

/** The parallel adapter's cross-field check (bottleneckSize or reductionFactor, not both). */
const checkMam = (config: MamAdapterConfig): void => parallelAdapter.checkConfig?.(config as unknown as ParallelAdapterConfig & BottleneckConfig);

/** A validated MAM config. */
export function mamAdapterConfig(input: MamAdapterConfigInput): MamAdapterConfig {
  const config = validateConfig<MamAdapterConfig>('MamAdapterConfig', mamSchema, { method: 'mam', ...input });
  checkMam(config);
  return config;
}

/** What {@link addMamAdapter} and {@link loadMamAdapter} return. */
export interface MamAdapterResult {
  /** The module to call: the prefix wrapper when `prefixModule` is the root, else the model itself. */
  model: Module;
  /** The model the parallel adapter is registered on (for `getAdapter`, `saveAdapter`, `deleteAdapter`). */
  base: Module;
  /** The same Params tree, with both parts' leaves. */
  params: Params;
  /** The parallel adapter. */
  adapter: AdapterRecord;
  /** The prefixes (undefined with `numVirtualTokens: 0`). */
  prefix?: PromptLearningRecord;
}

/** Options of {@link addMamAdapter}. */
export interface MamAdapterOptions {
  /** Name of both parts. Default `'default'`. */
  name?: string;
  /** Stream of the initialisation. Default `new Rng('mam:<name>')`. */
  rng?: Rng;
}

/** Makes the parallel adapter's leaves trainable again (prefix tuning freezes every leaf but its own). */
function retrain(adapter: AdapterRecord): void {
  for (const leaf of adapter.leaves) leaf.variable.trainable = leaf.trainable;
  for (const leaf of adapter.baseTrainable) leaf.variable.trainable = true;
}

/** The attention modules inside `prefixModule`. */
function attentionUnder(model: Module, prefixModule: string): MultiHeadAttentionModule[] {
  return findModules(model)
    .filter((e) => e.module.kind === 'multi_head_attention' && (prefixModule === '' || e.path.startsWith(`${prefixModule}.`)))
    .map((e) => e.module as MultiHeadAttentionModule);
}

/**
 * Adds the MAM adapter: the scaled parallel adapter on the FFNs `targetModules` names and prefix
 * tuning on the attention layers inside `prefixModule`; every other leaf of `params` is frozen.
 * Throws, changing nothing, when the model has no attention there and `numVirtualTokens` is not 0.
 */
export function addMamAdapter(model: Module, params: Params, input: MamAdapterConfig | MamAdapterConfigInput, options: MamAdapterOptions = {}): MamAdapterResult {
  const config = mamAdapterConfig(input as MamAdapterConfigInput);
  const name = options.name ?? 'default';
  const rng = options.rng ?? new Rng(`mam:${name}`);
  const attention = config.numVirtualTokens > 0 ? attentionUnder(model, config.prefixModule) : [];
  if (config.numVirtualTokens > 0 && attention.length === 0) {
    throw new Error(
      `MamAdapterConfig: the model has no multi_head_attention module${config.prefixModule ? ` inside prefixModule '${config.prefixModule}'` : ''}, so MAM's prefix tuning has nothing to attach to; ` +
        `set numVirtualTokens: 0 for the scaled parallel adapter alone (what MAM reduces to without attention), or use method 'parallel_adapter'`,
    );
  }
  const ffn = Object.fromEntries(FFN_KEYS.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]));
  const adapter = addAdapter(model, params, parallelAdapterConfig(ffn as ParallelAdapterConfigInput), name, { rng: rng.fork('parallel_adapter') });
  if (attention.length === 0) return { model, base: model, params, adapter };
  try {
    const result = addPrefixTuning(
      model,
      params,
      { numVirtualTokens: config.numVirtualTokens, tokenDim: attention[0].embedDim, prefixProjection: config.prefixProjection, targetModule: config.prefixModule, ...(config.encoderHiddenSize !== undefined ? { encoderHiddenSize: config.encoderHiddenSize } : {}) },
      { name, rng: rng.fork('prefix_tuning') },
    );
    retrain(adapter);
    return { model: result.model, base: model, params, adapter, prefix: result.record };
  } catch (error) {
    deleteAdapter(model, params, name);
    throw error;
  }
}

/** Sub-folders of a saved MAM adapter. */
export const MAM_PARALLEL_DIR = 'parallel_adapter';
export const MAM_PREFIX_DIR = 'prefix_tuning';

/** Writes both parts of a MAM adapter under `dir` (PEFT's layout in each sub-folder). */
export function saveMamAdapter(dir: string, result: MamAdapterResult): void {
  saveAdapter(path.join(dir, MAM_PARALLEL_DIR), result.base, result.params, result.adapter.name);
  if (result.prefix) savePromptLearning(path.join(dir, MAM_PREFIX_DIR), result.prefix);
}

/**
 * Loads a MAM adapter written by {@link saveMamAdapter} into `model` (the same architecture): the
 * parallel adapter (as the bottleneck adapter it is saved as), then the prefixes if saved.
 */
export function loadMamAdapter(dir: string, model: Module, params: Params, options: { name?: string } = {}): MamAdapterResult {
  const name = options.name ?? 'default';
  const adapter = loadAdapter(path.join(dir, MAM_PARALLEL_DIR), model, params, name);
  const prefixDir = path.join(dir, MAM_PREFIX_DIR);
  if (!fs.existsSync(prefixDir)) return { model, base: model, params, adapter };
  try {
    const result = loadPrefixTuning(prefixDir, model, params, { name });
    retrain(adapter);
    return { model: result.model, base: model, params, adapter, prefix: result.record };
  } catch (error) {
    deleteAdapter(model, params, name);
    throw error;
  }
}

registerWholeModelMethod<MamAdapterConfig>({
  name: 'mam',
  configName: 'MamAdapterConfig',
  description: 'MAM adapter: prefix tuning on attention + scaled parallel adapter on the FFN (He et al. 2022)',
  schema: mamSchema,
  checkConfig: checkMam,
  apply({ model, params, config, rng }) {
    const result = addMamAdapter(model, params, config, { rng });
    return { trainModel: result.model, trainParams: result.params };
  },
});
