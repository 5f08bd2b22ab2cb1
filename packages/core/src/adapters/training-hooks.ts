/**
 * Methods that act during training, and methods that need no injected layers.
 *
 * Some PEFT methods are more than a forward pass: AdaLoRA prunes ranks as it trains, IncreLoRA
 * and TriAdaptLoRA grow them, HFT freezes half the parameters per round, SpIEL grows and drops
 * the indices it updates. Each exposes {@link AdapterTrainingHooks} — the `penalty`,
 * `transformGradients` and `afterStep` hooks of `train()` — so the training loop, `%%adapter` and
 * any user code run them the same way:
 *
 * - an injected method (one with layers, registered with `registerAdapterMethod`) implements
 *   `trainingHooks` on its {@link import('./method.js').AdapterMethod}; {@link adapterTrainingHooks}
 *   collects them for every adapter of a model;
 * - a whole-model method (BitFit-like: it chooses which of the model's own parameters train, or
 *   reparametrises them, as intrinsic-dimension subspaces do) is a {@link WholeModelMethod},
 *   registered with {@link registerWholeModelMethod}; `applyWholeModelMethod` validates its config
 *   and applies it.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Module } from '../nn/module.js';
import type { Params } from '../params/params.js';
import type { Rng } from '../random.js';
import type { GradientContext, PenaltyContext } from '../train/loop.js';
import type { GradientList } from '../train/clip.js';
import { closestKey, validateConfig, type ConfigSchema } from './config.js';
import { listAdapters } from './framework.js';
import { getAdapterMethod } from './registry.js';

/** What a method does inside `train()` (any subset), and how it reports and cleans up. */
export interface AdapterTrainingHooks {
  /** An extra loss term (AdaLoRA's orthogonal regulariser). */
  penalty?: (ctx: PenaltyContext) => tf.Scalar;
  /** Replaces the gradients before the update (HFT's frozen half, sparse fine-tuning's mask). */
  transformGradients?: (ctx: GradientContext) => GradientList;
  /** After each update (rank allocation, index growth). */
  afterStep?: (ctx: GradientContext) => void;
  /** Lines for the notebook after training (the ranks AdaLoRA kept…). */
  summary?(): string[];
  /** Numbers for the run's metrics after training (the final rank budget…), by name. */
  metrics?(): Record<string, number>;
  /** Frees the hook's state. Called once, after training. */
  dispose?(): void;
}

/** What {@link import('./method.js').AdapterMethod.trainingHooks} is given. */
export interface TrainingHooksContext {
  model: Module;
  params: Params;
  /** The adapter's name (`'default'`). */
  adapterName: string;
  /** Steps the run will take, when known (schedules that end at a step). */
  totalSteps?: number;
}

/** Runs several hook sets as one: penalties add, gradient transforms chain in order, the rest run in order. */
export function combineTrainingHooks(list: readonly AdapterTrainingHooks[]): AdapterTrainingHooks | undefined {
  const hooks = list.filter((h) => h !== undefined);
  if (hooks.length === 0) return undefined;
  if (hooks.length === 1) return hooks[0];
  const penalties = hooks.filter((h) => h.penalty);
  const transforms = hooks.filter((h) => h.transformGradients);
  const after = hooks.filter((h) => h.afterStep);
  return {
    ...(penalties.length > 0
      ? {
          penalty: (ctx) => {
            let total = penalties[0].penalty!(ctx);
            for (const h of penalties.slice(1)) {
              const next = h.penalty!(ctx);
              const sum = tf.add(total, next) as tf.Scalar;
              total.dispose();
              next.dispose();
              total = sum;
            }
            return total;
          },
        }
      : {}),
    ...(transforms.length > 0
      ? { transformGradients: (ctx) => transforms.reduce<GradientList>((grads, h) => h.transformGradients!({ ...ctx, grads }), ctx.grads) }
      : {}),
    ...(after.length > 0 ? { afterStep: (ctx) => after.forEach((h) => h.afterStep!(ctx)) } : {}),
    summary: () => hooks.flatMap((h) => h.summary?.() ?? []),
    metrics: () => Object.assign({}, ...hooks.map((h) => h.metrics?.() ?? {})),
    dispose: () => hooks.forEach((h) => h.dispose?.()),
  };
}

/**
 * The training hooks of every adapter on `model` whose method has any (undefined when none do),
 * combined with {@link combineTrainingHooks}. Call once before `train()`, and `dispose()` after.
 */
export function adapterTrainingHooks(model: Module, params: Params, options: { totalSteps?: number } = {}): AdapterTrainingHooks | undefined {
  const list: AdapterTrainingHooks[] = [];
  for (const record of listAdapters(model)) {
    const method = getAdapterMethod(record.config.method);
    const hooks = method.trainingHooks?.({ model, params, adapterName: record.name, ...options });
    if (hooks) list.push(hooks);
  }
  return combineTrainingHooks(list);
}

/** What a {@link WholeModelMethod} is applied to. */
export interface WholeModelContext<C> {
  model: Module;
  params: Params;
  /** The validated config (defaults filled in). */
  config: C;
  rng: Rng;
  /** Steps the run will take, when known. */
  totalSteps?: number;
  /** Steps in one epoch, when known (HFT's per-epoch rounds). */
  stepsPerEpoch?: number;
  /**
   * The Params of an earlier run or notebook variable by name (aTLAS's task vectors); throws when
   * there is none. Callers that can name other models (`%%adapter`) supply it.
   */
  resolveParams?: (name: string) => Params;
}

/**
 * What applying a whole-model method gives back. Methods that only choose which leaves train
 * return hooks (or nothing); a reparametrising method (intrinsic dimension) returns the model and
 * params to train instead, and `finish` writes the trained result back into the original params.
 */
export interface WholeModelApplied {
  hooks?: AdapterTrainingHooks;
  /** Train this module instead of the original (its params: {@link trainParams}). */
  trainModel?: Module;
  trainParams?: Params;
  /** After training: fold the result into the original params (θ = θ₀ + P·z) and free what is left. */
  finish?(): void;
}

/** A method that needs no injected layers: it picks or reparametrises the model's own parameters. */
export interface WholeModelMethod<C extends { method: string } = { method: string } & Record<string, unknown>> {
  /** Registry key, the `method:` of `%%adapter` (`'hft'`). */
  readonly name: string;
  /** Name of the config in messages (`'HftConfig'`). */
  readonly configName: string;
  /** One line for listings (`%magic_templates`, the schema's description). */
  readonly description: string;
  /** The config fields (including `method`). */
  readonly schema: ConfigSchema;
  /** Cross-field checks after {@link schema}. */
  checkConfig?(config: C): void;
  /** Makes the chosen parameters trainable (and the rest frozen), or builds the reparametrisation. */
  apply(ctx: WholeModelContext<C>): WholeModelApplied | void;
}

/**
 * The registry, created on first use: a method file may register while this module is still loading
 * (registry.ts → a method file → here → framework.ts → registry.ts is a cycle), when a `const` at
 * module level would not exist yet; a function declaration is hoisted, its property made on demand.
 */
function registeredWholeModelMethods(): Map<string, WholeModelMethod<any>> {
  const holder = registeredWholeModelMethods as { map?: Map<string, WholeModelMethod<any>> };
  return (holder.map ??= new Map());
}

/** Adds (or replaces) a whole-model method under its `name`. */
export function registerWholeModelMethod<C extends { method: string }>(method: WholeModelMethod<C>): void {
  registeredWholeModelMethods().set(method.name, method as WholeModelMethod<any>);
}

/** The names of the registered whole-model methods. */
export function wholeModelMethodNames(): string[] {
  return [...registeredWholeModelMethods().keys()];
}

/** The whole-model method registered under `name`, or undefined. */
export function findWholeModelMethod(name: string): WholeModelMethod<any> | undefined {
  return registeredWholeModelMethods().get(name);
}

/** The whole-model method registered under `name`; throws with a suggestion when there is none. */
export function getWholeModelMethod(name: string): WholeModelMethod<any> {
  const method = registeredWholeModelMethods().get(name);
  if (method) return method;
  const suggestion = closestKey(name, [...registeredWholeModelMethods().keys()]);
  throw new Error(`unknown whole-model method '${name}'${suggestion ? ` — did you mean '${suggestion}'?` : ''} (have: ${[...registeredWholeModelMethods().keys()].join(', ')})`);
}

/** Validates `rawConfig` against the method's schema (defaults filled in) and applies it. */
export function applyWholeModelMethod(
  model: Module,
  params: Params,
  rawConfig: Record<string, unknown>,
  options: { rng: Rng; totalSteps?: number; stepsPerEpoch?: number; resolveParams?: (name: string) => Params },
): { config: Record<string, unknown>; applied: WholeModelApplied } {
  const method = getWholeModelMethod(String(rawConfig.method));
  const config = validateConfig<{ method: string } & Record<string, unknown>>(method.configName, method.schema, rawConfig);
  method.checkConfig?.(config);
  const { rng, ...known } = options;
  const context: WholeModelContext<typeof config> = { model, params, config, rng };
  for (const [key, value] of Object.entries(known)) if (value !== undefined) Object.assign(context, { [key]: value });
  const applied = method.apply(context) ?? {};
  return { config, applied };
}
