/**
 * Params: a nested record of named tensors (`encoder.0.weight`), the unit that is initialised,
 * frozen, counted, saved and transformed. Leaves are `tf.Variable`s so that training updates them
 * in place and gradients are taken with respect to exactly the trainable ones.
 */
import * as tf from '@tensorflow/tfjs-core';

/** A tree of named tensors. */
export interface Params {
  [name: string]: tf.Variable | Params;
}

/** A flat view: dotted path → tensor. */
export type FlatParams = Map<string, tf.Variable>;

/** True for a leaf of a Params tree. */
export function isLeaf(value: unknown): value is tf.Variable {
  return value instanceof tf.Variable;
}

/** Paths and leaves in depth-first, insertion order (stable across runs). */
export function flatten(params: Params, prefix = ''): FlatParams {
  const out: FlatParams = new Map();
  const walk = (node: Params, path: string): void => {
    for (const [key, value] of Object.entries(node)) {
      const full = path ? `${path}.${key}` : key;
      if (isLeaf(value)) out.set(full, value);
      else walk(value, full);
    }
  };
  walk(params, prefix);
  return out;
}

/** Rebuilds a tree from dotted paths. */
export function unflatten(flat: Iterable<[string, tf.Variable]>): Params {
  const root: Params = {};
  for (const [path, value] of flat) {
    const parts = path.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node = node[part] = {};
      else if (isLeaf(next)) throw new Error(`unflatten: ${path} passes through the tensor at ${part}`);
      else node = next;
    }
    node[parts[parts.length - 1]] = value;
  }
  return root;
}

/** The leaf or subtree at a dotted path, or undefined. */
export function getPath(params: Params, path: string): tf.Variable | Params | undefined {
  let node: tf.Variable | Params | undefined = params;
  for (const part of path.split('.')) {
    if (node === undefined || isLeaf(node)) return undefined;
    node = node[part];
  }
  return node;
}

/**
 * A path pattern: an exact dotted path, a glob (`*` matches within one segment, `**` across
 * segments) or a RegExp. `encoder.*.weight` matches `encoder.0.weight`.
 */
export type PathPattern = string | RegExp;

/** Compiles a pattern into a predicate on dotted paths. */
export function pathMatcher(pattern: PathPattern): (path: string) => boolean {
  if (pattern instanceof RegExp) return (path) => pattern.test(path);
  if (!/[*?]/.test(pattern)) return (path) => path === pattern || path.startsWith(`${pattern}.`);
  const source = pattern
    .split('**')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*').replace(/\?/g, '[^.]'))
    .join('.*');
  const regex = new RegExp(`^${source}(\\..*)?$`);
  return (path) => regex.test(path);
}

/** Counts of parameters (scalars, not tensors). */
export interface ParamCount {
  trainable: number;
  all: number;
}

/** Counts the scalars in a tree; `trainable` counts leaves whose `trainable` flag is set. */
export function countParams(params: Params): ParamCount {
  let trainable = 0;
  let all = 0;
  for (const variable of flatten(params).values()) {
    all += variable.size;
    if (variable.trainable) trainable += variable.size;
  }
  return { trainable, all };
}

/**
 * Freezes (trainable = false) every leaf whose path matches a pattern; with `unfreeze`, does the
 * opposite. Returns the paths it changed. Throws, naming the pattern, when one matches nothing.
 */
export function setTrainable(params: Params, patterns: PathPattern[], trainable: boolean): string[] {
  const flat = flatten(params);
  const changed: string[] = [];
  for (const pattern of patterns) {
    const matches = pathMatcher(pattern);
    const hit = [...flat.keys()].filter(matches);
    if (hit.length === 0) throw new Error(`pattern ${String(pattern)} matches no parameter (have: ${[...flat.keys()].slice(0, 8).join(', ')}${flat.size > 8 ? ', …' : ''})`);
    for (const path of hit) {
      const variable = flat.get(path)!;
      if (variable.trainable !== trainable) {
        variable.trainable = trainable;
        changed.push(path);
      }
    }
  }
  return changed;
}

/** The trainable leaves, in tree order. */
export function trainableVariables(params: Params): tf.Variable[] {
  return [...flatten(params).values()].filter((variable) => variable.trainable);
}

/** Disposes every tensor in the tree. */
export function disposeParams(params: Params): void {
  for (const variable of flatten(params).values()) variable.dispose();
}

/**
 * Creates a leaf from a tensor and takes ownership of it: the variable shares the tensor's data
 * (no copy) and the tensor handle itself is disposed, so disposing the variable frees the data.
 */
export function variable(value: tf.Tensor, name: string, trainable = true): tf.Variable {
  const leaf = tf.variable(value, trainable, `${name}_${nextVariableId++}`);
  if (leaf !== value) value.dispose();
  return leaf;
}
let nextVariableId = 0;
