/**
 * Pure modules: `init(rng) → Params` and `apply(params, x, ctx) → Tensor`. A module holds
 * configuration, never tensors, so one module can be applied to many Params (a hypernetwork's
 * output, an adapted copy). Composite modules name their children; adapters replace a child by
 * path (see {@link findModules}) and the parent calls whatever child is there at apply time.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../params/params.js';

/** What `apply` knows about the call. */
export interface ApplyContext {
  /** Training mode: dropout active. */
  training: boolean;
  /** The stream dropout draws from; required when `training` and the module has dropout. */
  rng?: Rng;
  /** Optional extra inputs by name (attention masks, task embeddings, prompt tokens, …). */
  extras?: Record<string, tf.Tensor>;
}

/** A pure module. */
export interface Module<I extends tf.Tensor = tf.Tensor, O extends tf.Tensor = tf.Tensor> {
  /** What kind of module this is (`linear`, `mlp`, `conv2d`, …); adapters target by kind and path. */
  readonly kind: string;
  /** Children by name, for composite modules; their params live under the same names. */
  readonly children?: Record<string, Module>;
  /** Fresh parameters. */
  init(rng: Rng): Params;
  /** The forward computation. */
  apply(params: Params, x: I, ctx?: ApplyContext): O;
}

/** Every module in a tree with its dotted path (the root has path ''). */
export function findModules(root: Module, prefix = ''): Array<{ path: string; module: Module; parent?: Module; key?: string }> {
  const out: Array<{ path: string; module: Module; parent?: Module; key?: string }> = [{ path: prefix, module: root }];
  const walk = (module: Module, path: string): void => {
    for (const [key, child] of Object.entries(module.children ?? {})) {
      const childPath = path ? `${path}.${key}` : key;
      out.push({ path: childPath, module: child, parent: module, key });
      walk(child, childPath);
    }
  };
  walk(root, prefix);
  return out;
}

/**
 * Params of a composite module: each named child initialised from its own fork of `rng` (so adding
 * a child never changes the others' initial values), under the child's name.
 */
export function initChildren(children: Record<string, Module>, names: readonly string[], rng: Rng): Params {
  const params: Params = {};
  for (const name of names) params[name] = children[name].init(rng.fork(name));
  return params;
}

/** The default context: inference. */
export const INFERENCE: ApplyContext = { training: false };
