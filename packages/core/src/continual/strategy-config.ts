/**
 * The strategies' hyperparameters, one config table per strategy (the same {@link FieldSpec}s
 * as the adapter configs, so the `%%continual` magic's JSON Schema and the TypeScript API accept
 * exactly the same options: {@link strategyJsonSchema}). Names are Avalanche's in camelCase
 * (`ewcLambda`, `decayFactor`, `siLambda`, `memSize`, `patternsPerExp`, `sampleSize`, `alpha`,
 * `temperature`, MAS's `lambdaReg`). Defaults are van de Ven & Tolias's (2019) where they have
 * one (their Split MNIST Task-IL values for the regularisation strengths), else Avalanche's.
 */
import { configJsonSchema, fields, validateConfig, type ConfigSchema, type FieldSpec } from '../adapters/config.js';

/** The strategies. */
export const STRATEGY_NAMES = ['naive', 'joint', 'cumulative', 'ewc', 'online-ewc', 'si', 'mas', 'lwf', 'replay', 'agem', 'gdumb', 'generative-replay', 'adapters', 'hnet'] as const;

/** A strategy's name. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** A strategy and its hyperparameters: `{ name: 'ewc', ewcLambda: 1e7 }`; omitted ones take their defaults. */
export interface StrategyConfig {
  name: StrategyName;
  [hyperparameter: string]: unknown;
}

const nonNegative = (def?: number): FieldSpec => ({ expected: 'a number ≥ 0', check: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, default: def, json: { type: 'number', minimum: 0 } });
const positive = (def?: number): FieldSpec => ({ expected: 'a number > 0', check: (v) => typeof v === 'number' && Number.isFinite(v) && v > 0, default: def, json: { type: 'number', exclusiveMinimum: 0 } });
const unitInterval = (def?: number): FieldSpec => ({ expected: 'a number in [0, 1]', check: (v) => typeof v === 'number' && v >= 0 && v <= 1, default: def, json: { type: 'number', minimum: 0, maximum: 1 } });
const positiveIntList = (def: number[]): FieldSpec => ({ expected: 'an array of positive integers', check: (v) => Array.isArray(v) && v.every((n) => Number.isInteger(n) && n > 0), default: def, json: { type: 'array', items: { type: 'integer', minimum: 1 } } });
const optional = (spec: FieldSpec): FieldSpec => ({ ...spec, default: undefined, optional: true });
const named = (name: StrategyName, rest: ConfigSchema = {}): ConfigSchema => ({ name: fields.fixed(name, 'the strategy'), ...rest });

/** EWC's Fisher estimate, shared by `ewc` and `online-ewc`. */
const fisherFields: ConfigSchema = {
  /** Examples the Fisher is estimated on, one at a time (default: the experience's whole training set, as van de Ven). */
  fisherSamples: optional(fields.positiveInt()),
  /** The empirical Fisher (gradients at the true labels) instead of van de Ven's default, the model's predicted labels. */
  empFI: fields.boolean(false),
};

/** Each strategy's fields. */
export const strategyConfigSchemas: Readonly<Record<StrategyName, ConfigSchema>> = {
  naive: named('naive'),
  joint: named('joint'),
  cumulative: named('cumulative'),
  ewc: named('ewc', {
    ewcLambda: nonNegative(1e7),
    mode: fields.oneOf(['separate', 'online'], 'separate'),
    decayFactor: optional(unitInterval()),
    ...fisherFields,
  }),
  'online-ewc': named('online-ewc', { ewcLambda: nonNegative(1e8), decayFactor: unitInterval(0.8), ...fisherFields }),
  si: named('si', { siLambda: nonNegative(50), eps: positive(0.1) }),
  mas: named('mas', { lambdaReg: nonNegative(1), alpha: unitInterval(0.5) }),
  lwf: named('lwf', { alpha: optional(nonNegative()), temperature: positive(2), kdReduction: fields.oneOf(['sum', 'mean'], 'sum') }),
  replay: named('replay', {
    memSize: fields.positiveInt(200),
    storagePolicy: fields.oneOf(['reservoir', 'class-balanced'], 'class-balanced'),
    batchSizeMem: optional(fields.positiveInt()),
  }),
  agem: named('agem', { patternsPerExp: fields.positiveInt(256), sampleSize: fields.positiveInt(64) }),
  gdumb: named('gdumb', { memSize: fields.positiveInt(200) }),
  'generative-replay': named('generative-replay', {
    distill: fields.boolean(true),
    temperature: positive(2),
    zDim: fields.positiveInt(100),
    vaeHidden: positiveIntList([400, 400]),
    vaeIterations: optional(fields.positiveInt()),
    vaeLr: optional(positive()),
  }),
  adapters: named('adapters', {
    method: fields.oneOf(['lora', 'dora'], 'lora'),
    r: fields.positiveInt(8),
    loraAlpha: fields.number(8),
    targetModules: optional(fields.stringList()),
  }),
  hnet: named('hnet', {
    beta: nonNegative(0.01),
    hnetLayers: positiveIntList([100, 100]),
    hnetActivation: fields.oneOf(['relu', 'gelu', 'silu', 'tanh', 'sigmoid', 'identity'], 'relu'),
    chunkSize: optional(fields.positiveInt()),
    chunkEmbSize: fields.positiveInt(8),
    taskEmbSize: fields.positiveInt(8),
    mip: fields.boolean(false),
  }),
};

/** What each strategy's hyperparameters mean, for help texts and templates. */
export const STRATEGY_DESCRIPTIONS: Readonly<Record<StrategyName, string>> = {
  naive: 'fine-tune on each experience in turn (the lower bound)',
  joint: 'train once on all experiences together (the upper bound)',
  cumulative: 'train each experience on all data seen so far',
  ewc: 'elastic weight consolidation (Kirkpatrick et al. 2017): ½·ewcLambda·Σ F(θ − θ*)²',
  'online-ewc': 'online EWC (Schwarz et al. 2018): one running Fisher, decayed by decayFactor',
  si: 'synaptic intelligence (Zenke et al. 2017): path-integral importance, strength siLambda, damping eps',
  mas: 'memory aware synapses (Aljundi et al. 2018): output-sensitivity importance, strength lambdaReg',
  lwf: 'learning without forgetting (Li & Hoiem 2016): distil the previous model at temperature',
  replay: 'experience replay from a buffer of memSize examples',
  agem: 'averaged gradient episodic memory (Chaudhry et al. 2019)',
  gdumb: 'GDumb (Prabhu et al. 2020): greedy class-balanced memory, retrained from scratch',
  'generative-replay': 'deep generative replay (Shin et al. 2017) with a VAE; distill: soft targets (van de Ven)',
  adapters: 'one LoRA/DoRA adapter per task on a frozen backbone (needs task labels)',
  hnet: 'task-conditioned hypernetwork (von Oswald et al. 2020): generated classifier, output regulariser beta, entropy task inference without task labels',
};

/** Checks a strategy config and fills its defaults; unknown strategies and bad values throw, naming the option. */
export function validateStrategyConfig(raw: unknown): StrategyConfig & Record<string, unknown> {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`strategy must be an object such as { name: 'ewc', ewcLambda: 1e7 }, got ${JSON.stringify(raw)}`);
  const name = (raw as { name?: unknown }).name;
  if (!STRATEGY_NAMES.includes(name as StrategyName)) throw new Error(`strategy.name: unknown strategy ${JSON.stringify(name)} (known: ${STRATEGY_NAMES.join(', ')})`);
  const config = validateConfig<StrategyConfig & Record<string, unknown>>(`strategy '${String(name)}'`, strategyConfigSchemas[name as StrategyName], raw);
  if (config.name === 'ewc') {
    if (config.mode === 'online' && config.decayFactor === undefined) throw new Error("strategy 'ewc'.decayFactor is required with mode 'online' (as Avalanche)");
    if (config.mode === 'separate' && config.decayFactor !== undefined) throw new Error("strategy 'ewc'.decayFactor is only allowed with mode 'online' (as Avalanche)");
  }
  return config;
}

/** A strategy's config as a JSON Schema object (draft 2020-12). */
export function strategyJsonSchema(name: StrategyName): Record<string, unknown> {
  return configJsonSchema(strategyConfigSchemas[name], `${name} strategy`);
}
