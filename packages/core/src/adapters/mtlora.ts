/**
 * MTLoRA: task-agnostic and task-specific low-rank updates for multi-task learning.
 *
 * Paper: Ahmed Agiza, Marina Neseem, Sherief Reda (2024), "MTLoRA: A Low-Rank Adaptation Approach
 * for Efficient Multi-Task Learning", CVPR 2024, arXiv:2403.20320.
 *
 * Each adapted linear layer W `[out, in]` gets one task-agnostic module (TA-LoRA), shared by every
 * task, and one task-specific module (TS-LoRA) per task. With task t selected,
 *
 *   y = W·x + b + s_TA · B·A·x̃ + s_TS · B_t·A_t·x̃,   s_TA = loraAlpha / r,  s_TS = loraAlpha / taskR
 *
 * (x̃ the input after `loraDropout`), A `[r, in]`, B `[out, r]`, A_t `[taskR, in]`, B_t
 * `[out, taskR]`. As in LoRA and the authors' code, every A starts Kaiming-uniform (U(±1/√in)) and
 * every B at zero, so the adapted model equals the base exactly for every task. Gradients of a
 * task-t batch reach the shared A, B and task t's A_t, B_t, never another task's (they are not in
 * its forward); the optimiser leaves a leaf without a gradient untouched.
 *
 * Choosing the task. A forward serves one task; which one is model state set by
 * {@link setActiveTask}`(model, 'taskName')` (default: the first of `tasks`), in the way
 * `setActiveAdapters` chooses adapters — the `train()` loop passes no task, and
 * `ApplyContext.extras` holds tensors only. For multi-task training, call `setActiveTask` in the
 * data generator before yielding each task's batch (the loop steps on a batch before it asks for
 * the next); for evaluation, before each task's forward.
 *
 * Merging folds the shared part and the active task's part, W ← W + s_TA·B·A + s_TS·B_t·A_t;
 * switching the task while merged is refused (unmerge first). {@link mtloraTaskParams} exports one
 * task's merged base weights as a plain Params tree for the base model, without touching the
 * adapted model — one ordinary network per task.
 *
 * `taskModules` (optional, matched like `targetModules`) limits TS-LoRA to some of the adapted
 * layers; the others get TA-LoRA only. The paper places TS-LoRA in the last block of each stage
 * of its hierarchical encoder and TA-LoRA elsewhere. Default: every adapted layer.
 *
 * Where HyperLab differs from the paper: its encoder runs the shared path (TA-LoRA only) through
 * the backbone and, at TS-LoRA layers, also produces a task-specific feature per task for that
 * task's decoder (all tasks in one forward). A HyperLab model has one path, so the selected task's
 * TS-LoRA is added to the shared update at the same layer (the authors' code has this additive
 * form as its `matrixv2` mode). The scales are α/r and α/taskR, as LoRA's, where the authors use
 * fixed scale hyper-parameters.
 *
 * Params (the authors' state-dict names): `<layer>.lora_shared_A.<name>`, `<layer>.lora_shared_B.<name>`,
 * `<layer>.lora_tasks_A.<name>.<task>`, `<layer>.lora_tasks_B.<name>.<task>`; saved (PEFT's layout,
 * adapter name dropped) as `base_model.model.<layer>.lora_shared_A`, `….lora_tasks_A.<task>`, with
 * `peft_type: "MTLORA"` (upstream PEFT has no MTLoRA). Trainable count per layer:
 * r·(in + out) + |tasks|·taskR·(in + out) (TA only: r·(in + out)). Linear layers only.
 */
import * as tf from '@tensorflow/tfjs-core';
import { findModules, type ApplyContext, type Module } from '../nn/module.js';
import { flatten, variable, type Params } from '../params/params.js';
import { linearForward } from '../nn/linear.js';
import { initializers } from '../nn/init.js';
import { dropout } from '../nn/activations.js';
import { baseFields, closestKey, configFromPeft, fields, validateConfig, type BaseAdapterConfig, type ConfigSchema, type FieldSpec, type TargetModules } from './config.js';
import { describeTargets, targetMatcher } from './targets.js';
import type { AdapterInstance, AdapterMethod, LayerInfo } from './method.js';
import { getAdapter, listAdapters } from './framework.js';
import { isAdapterLayer, type AdapterLayer } from './layer.js';
import { assignTo, setLeaf, subtree, tensorAt } from './param-paths.js';

/** MTLoRA's configuration. */
export interface MtloraConfig extends BaseAdapterConfig {
  method: 'mtlora';
  /** Rank of the shared (task-agnostic) update. Default 8. */
  r: number;
  /** Rank of each task-specific update. Default `r`. */
  taskR?: number;
  /** The task names (letters, digits, `_`, `-`); the first is active after adding. */
  tasks: string[];
  /** α: the shared update is scaled by α/r, each task's by α/taskR. Default 8. */
  loraAlpha: number;
  /** Dropout on the adapter's input (training only), one mask for both parts. Default 0. */
  loraDropout: number;
  /** Adapted layers that also get task-specific updates (default: all of them). */
  taskModules?: TargetModules;
  /** Which biases train. Default `'none'`. */
  bias: 'none' | 'all' | 'lora_only';
}

/** What {@link mtloraConfig} accepts. */
export type MtloraConfigInput = Partial<Omit<MtloraConfig, 'method' | 'targetModules' | 'tasks'>> & Pick<MtloraConfig, 'targetModules' | 'tasks'>;

const TASK_NAME = /^[A-Za-z0-9_-]+$/;

const tasksField: FieldSpec = {
  expected: 'a non-empty list of distinct task names (letters, digits, _ or -)',
  check: (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string' && TASK_NAME.test(s)) && new Set(v).size === v.length,
  json: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' } },
};

const schema: ConfigSchema = {
  ...baseFields('mtlora'),
  r: fields.positiveInt(8),
  taskR: { ...fields.positiveInt(), optional: true },
  tasks: tasksField,
  loraAlpha: fields.number(8),
  loraDropout: fields.probability(0),
  taskModules: { ...fields.targets(), optional: true },
  bias: fields.oneOf(['none', 'all', 'lora_only'], 'none'),
};

/** A validated MTLoRA config. */
export function mtloraConfig(input: MtloraConfigInput): MtloraConfig {
  return validateConfig<MtloraConfig>('MtloraConfig', schema, { method: 'mtlora', ...input });
}

/** The rank of each task-specific update. */
export function mtloraTaskRank(config: Pick<MtloraConfig, 'r' | 'taskR'>): number {
  return config.taskR ?? config.r;
}

/** Trainable scalars of MTLoRA on a linear layer (with or without task-specific updates). */
export function mtloraTrainableCount(config: Pick<MtloraConfig, 'r' | 'taskR' | 'tasks'>, layer: Pick<LayerInfo, 'inFeatures' | 'outFeatures'>, withTasks = true): number {
  const width = layer.inFeatures + layer.outFeatures;
  return config.r * width + (withTasks ? config.tasks.length * mtloraTaskRank(config) * width : 0);
}

/** State of one MTLoRA adapter on one layer. */
interface MtloraState {
  [key: string]: unknown;
  sharedScale: number;
  taskScale: number;
  /** Whether this layer has task-specific updates. */
  hasTasks: boolean;
  /** The active task. */
  task: string;
  /** The task whose update is folded into the weight, while merged. */
  mergedTask?: string;
}

function checkLayer(config: MtloraConfig, layer: LayerInfo): void {
  const limit = Math.min(layer.inFeatures, layer.outFeatures);
  for (const [key, value] of [['r', config.r], ['taskR', mtloraTaskRank(config)]] as const) {
    if (value > limit) throw new Error(`MtloraConfig.${key} = ${value} is larger than min(in, out) = ${limit} of layer '${layer.path}' (linear ${layer.inFeatures} → ${layer.outFeatures})`);
  }
}

function stateOf(inst: AdapterInstance<MtloraConfig>): MtloraState {
  return inst.state as MtloraState;
}

/** s_TA·B·A (+ s_TS·B_t·A_t where the layer has task updates) for `task`, `[out, in]`. */
function mtloraDelta(inst: AdapterInstance<MtloraConfig>, params: Params, task: string): tf.Tensor {
  const { name } = inst;
  const state = stateOf(inst);
  return tf.tidy(() => {
    const shared = tf.mul(tf.matMul(tensorAt(params, `lora_shared_B.${name}`, 'mtlora'), tensorAt(params, `lora_shared_A.${name}`, 'mtlora')), state.sharedScale);
    if (!state.hasTasks) return shared;
    const own = tf.matMul(tensorAt(params, `lora_tasks_B.${name}.${task}`, 'mtlora'), tensorAt(params, `lora_tasks_A.${name}.${task}`, 'mtlora'));
    return tf.add(shared, tf.mul(own, state.taskScale));
  });
}

function mtloraBranch(inst: AdapterInstance<MtloraConfig>, params: Params, x: tf.Tensor, ctx?: ApplyContext): tf.Tensor {
  const { name } = inst;
  const state = stateOf(inst);
  return tf.tidy(() => {
    const xd = dropout(x, inst.config.loraDropout, ctx);
    const lowRank = (a: string, b: string, scale: number): tf.Tensor =>
      tf.mul(linearForward(linearForward(xd, tensorAt(params, a, 'mtlora')), tensorAt(params, b, 'mtlora')), scale);
    const shared = lowRank(`lora_shared_A.${name}`, `lora_shared_B.${name}`, state.sharedScale);
    if (!state.hasTasks) return shared;
    return tf.add(shared, lowRank(`lora_tasks_A.${name}.${state.task}`, `lora_tasks_B.${name}.${state.task}`, state.taskScale));
  });
}

/** The MTLoRA method. */
export const mtlora: AdapterMethod<MtloraConfig> = {
  name: 'mtlora',
  configName: 'MtloraConfig',
  description: 'MTLoRA: a low-rank update shared by all tasks plus one per task, chosen with setActiveTask (Agiza et al. 2024)',
  peftType: 'MTLORA',
  supportedKinds: ['linear'],
  mergeable: true,
  paramKeys: ['lora_shared_A', 'lora_shared_B', 'lora_tasks_A', 'lora_tasks_B'],
  schema,
  checkLayer,
  createShared(config, layers) {
    // No shared leaves; this is where the layers are known together, so taskModules is checked here.
    if (config.taskModules !== undefined) {
      const matches = targetMatcher(config.taskModules);
      if (!layers.some((l) => matches(l.path))) {
        throw new Error(`MtloraConfig.taskModules ${JSON.stringify(describeTargets(config.taskModules))} matches none of the adapted layers (${layers.map((l) => l.path).join(', ')})`);
      }
    }
    return {};
  },
  init({ layer, config, name, rng }) {
    const taskR = mtloraTaskRank(config);
    const hasTasks = config.taskModules === undefined || targetMatcher(config.taskModules)(layer.path);
    const aInit = initializers.torchDefault();
    const leaves: Record<string, tf.Variable> = {
      [`lora_shared_A.${name}`]: variable(aInit(rng.fork('lora_shared_A'), [config.r, layer.inFeatures]), `${layer.path}.lora_shared_A.${name}`),
      [`lora_shared_B.${name}`]: variable(tf.zeros([layer.outFeatures, config.r]), `${layer.path}.lora_shared_B.${name}`),
    };
    if (hasTasks) {
      for (const task of config.tasks) {
        leaves[`lora_tasks_A.${name}.${task}`] = variable(aInit(rng.fork(`lora_tasks_A.${task}`), [taskR, layer.inFeatures]), `${layer.path}.lora_tasks_A.${name}.${task}`);
        leaves[`lora_tasks_B.${name}.${task}`] = variable(tf.zeros([layer.outFeatures, taskR]), `${layer.path}.lora_tasks_B.${name}.${task}`);
      }
    }
    const state: MtloraState = { sharedScale: config.loraAlpha / config.r, taskScale: config.loraAlpha / taskR, hasTasks, task: config.tasks[0] };
    return { leaves, state };
  },
  transformOutput: (inst, params, x, y, _yBase, ctx) => tf.add(y, mtloraBranch(inst, params, x, ctx)),
  merge(inst, params) {
    const state = stateOf(inst);
    const weight = tensorAt(params, 'weight', 'mtlora') as tf.Variable;
    assignTo(weight, () => tf.add(weight, mtloraDelta(inst, params, state.task)));
    state.mergedTask = state.task;
  },
  unmerge(inst, params) {
    const state = stateOf(inst);
    const weight = tensorAt(params, 'weight', 'mtlora') as tf.Variable;
    assignTo(weight, () => tf.sub(weight, mtloraDelta(inst, params, state.mergedTask ?? state.task)));
    delete state.mergedTask;
  },
  toPeft: (config) => ({
    r: config.r,
    task_r: mtloraTaskRank(config),
    tasks: [...config.tasks],
    lora_alpha: config.loraAlpha,
    lora_dropout: config.loraDropout,
    task_modules: config.taskModules === undefined ? null : describeTargets(config.taskModules),
    bias: config.bias,
    target_modules: describeTargets(config.targetModules),
    modules_to_save: config.modulesToSave.length ? config.modulesToSave : null,
  }),
  fromPeft: (json) =>
    configFromPeft('mtlora', json, { r: 'r', task_r: 'taskR', tasks: 'tasks', lora_alpha: 'loraAlpha', lora_dropout: 'loraDropout', task_modules: 'taskModules', bias: 'bias' }),
};

/** The layers of MTLoRA adapter `name` with their wrappers and paths. */
function mtloraLayers(model: Module, name: string, caller: string): { config: MtloraConfig; layers: Array<{ inst: AdapterInstance<MtloraConfig>; wrapper: AdapterLayer; path: string }> } {
  const record = getAdapter(model, name);
  if (record.method.name !== 'mtlora') throw new Error(`${caller}: adapter '${name}' is ${record.method.configName.replace(/Config$/, '')}, not MTLoRA`);
  const layers = findModules(model)
    .filter((e) => isAdapterLayer(e.module) && (e.module as AdapterLayer).adapters.has(name))
    .map((e) => ({ wrapper: e.module as AdapterLayer, inst: (e.module as AdapterLayer).adapters.get(name) as AdapterInstance<MtloraConfig>, path: e.path }));
  return { config: record.config as unknown as MtloraConfig, layers };
}

function checkTask(config: MtloraConfig, task: string, name: string, caller: string): void {
  if (config.tasks.includes(task)) return;
  const suggestion = closestKey(task, config.tasks);
  throw new Error(`${caller}: MTLoRA adapter '${name}' has no task '${task}'${suggestion ? ` — did you mean '${suggestion}'?` : ''} (tasks: ${config.tasks.join(', ')})`);
}

/**
 * Selects the task whose task-specific updates the MTLoRA adapter `name` runs (and merges) from
 * now on. Throws for an unknown task, and while the adapter is merged with another task.
 */
export function setActiveTask(model: Module, task: string, name = 'default'): void {
  const { config, layers } = mtloraLayers(model, name, 'setActiveTask');
  checkTask(config, task, name, 'setActiveTask');
  const merged = layers.filter((l) => l.wrapper.merged.includes(name) && stateOf(l.inst).mergedTask !== task);
  if (merged.length) throw new Error(`setActiveTask: MTLoRA adapter '${name}' is merged with task '${stateOf(merged[0].inst).mergedTask}' into ${merged.map((l) => l.path).join(', ')}; unmerge first`);
  for (const { inst } of layers) stateOf(inst).task = task;
}

/** The task MTLoRA adapter `name` runs. */
export function activeTask(model: Module, name = 'default'): string {
  const { config, layers } = mtloraLayers(model, name, 'activeTask');
  return layers.length ? stateOf(layers[0].inst).task : config.tasks[0];
}

/**
 * One task's network: a new Params tree with the base model's leaves (every leaf no adapter owns),
 * copied and frozen, in which each layer MTLoRA adapter `name` adapts has W + s_TA·B·A + s_TS·B_t·A_t.
 * Apply it with the base model (the same architecture without adapters). `model` and `params` are
 * not changed; throws while any adapter of the model is merged (the weights would count it twice).
 */
export function mtloraTaskParams(model: Module, params: Params, task: string, name = 'default'): Params {
  const { config, layers } = mtloraLayers(model, name, 'mtloraTaskParams');
  checkTask(config, task, name, 'mtloraTaskParams');
  const merged = findModules(model).filter((e) => isAdapterLayer(e.module) && (e.module as AdapterLayer).merged.length > 0);
  if (merged.length) throw new Error(`mtloraTaskParams: adapters are merged into ${merged.map((e) => e.path).join(', ')}; unmerge first`);
  const owned = new Set<tf.Variable>();
  for (const record of listAdapters(model)) for (const leaf of record.leaves) owned.add(leaf.variable);
  const deltas = new Map(layers.map(({ inst, path }) => [path === '' ? 'weight' : `${path}.weight`, { inst, path }]));
  const out: Params = {};
  for (const [path, leaf] of flatten(params)) {
    if (owned.has(leaf)) continue;
    const adapted = deltas.get(path);
    const value = adapted ? tf.tidy(() => tf.add(leaf, mtloraDelta(adapted.inst, subtree(params, adapted.path), task))) : tf.clone(leaf);
    setLeaf(out, path, variable(value, `${path}.${task}`, false));
  }
  return out;
}
