/**
 * The model's own parameters grouped by the module that owns them, for the whole-model methods
 * (HFT, sparse fine-tuning, SpIEL) that choose which of them train: `0.weight` and `0.bias` belong
 * to module `0` (a linear), `self_attn.q_proj.weight` to `self_attn.q_proj`.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { findModules, type Module } from '../nn/module.js';
import { flatten, type Params } from '../params/params.js';
import { isAdapterLayer } from './layer.js';
import { targetMatcher, describeTargets } from './targets.js';
import type { TargetModules } from './config.js';

/** A module that owns leaves directly. */
export interface OwnedLeaves {
  /** Its dotted path ('' for the root). */
  path: string;
  /** Its kind (`linear`, `layer_norm`, `embedding`…). */
  kind: string;
  /** Its leaves, by full path, in tree order. */
  leaves: Array<{ path: string; variable: tf.Variable }>;
}

/**
 * Every module that owns leaves of `params`, in tree order. Throws when the model carries injected
 * adapters (these methods choose among the model's own parameters; merge or unload first).
 */
export function leavesByModule(model: Module, params: Params, caller: string): OwnedLeaves[] {
  const modules = findModules(model);
  const adapted = modules.filter((e) => isAdapterLayer(e.module)).map((e) => e.path);
  if (adapted.length > 0) throw new Error(`${caller}: the model carries adapter layers at ${adapted.join(', ')}; merge or unload them first (mergeAndUnload)`);
  const kinds = new Map(modules.map((e) => [e.path, e.module.kind]));
  const owned = new Map<string, OwnedLeaves>();
  for (const [path, variable] of flatten(params)) {
    const owner = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    let entry = owned.get(owner);
    if (!entry) owned.set(owner, (entry = { path: owner, kind: kinds.get(owner) ?? 'unknown', leaves: [] }));
    entry.leaves.push({ path, variable });
  }
  return [...owned.values()];
}

/**
 * A predicate on module paths: true for the modules `modulesToSave` names and the modules inside
 * them. Throws, naming the config key, when an entry matches no module.
 */
export function modulesToSaveMatcher(model: Module, modulesToSave: readonly string[], configName: string): (path: string) => boolean {
  const paths = findModules(model).map((e) => e.path).filter((p) => p !== '');
  const roots = new Set<string>();
  for (const entry of modulesToSave) {
    const test = targetMatcher([entry]);
    const hit = paths.filter(test);
    if (hit.length === 0) throw new Error(`${configName}.modulesToSave: '${entry}' matches no module (modules: ${paths.slice(0, 20).join(', ')}${paths.length > 20 ? ', …' : ''})`);
    hit.forEach((p) => roots.add(p));
  }
  return (path) => [...roots].some((root) => path === root || path.startsWith(`${root}.`));
}

/** A predicate on module paths for an optional `targetModules` (undefined: every module). */
export function optionalTargets(targets: TargetModules | undefined): (path: string) => boolean {
  return targets === undefined ? () => true : targetMatcher(targets);
}

/** `targetModules` for messages. */
export function describeOptionalTargets(targets: TargetModules | undefined): string {
  return targets === undefined ? 'the model' : `targetModules ${JSON.stringify(describeTargets(targets))}`;
}
