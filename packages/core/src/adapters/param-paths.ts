/** Writing and removing leaves of a Params tree by dotted path (adapters add and delete leaves). */
import * as tf from '@tensorflow/tfjs-core';
import { isLeaf, type Params } from '../params/params.js';

/** The subtree at `path` ('' = the root); throws naming the path when it is missing or a leaf. */
export function subtree(params: Params, path: string): Params {
  if (path === '') return params;
  let node: Params = params;
  for (const part of path.split('.')) {
    const next = node[part];
    if (next === undefined || isLeaf(next)) throw new Error(`no params at '${path}' (stopped at '${part}')`);
    node = next;
  }
  return node;
}

/** Puts `leaf` at `path`, creating subtrees; throws if something is already there. */
export function setLeaf(params: Params, path: string, leaf: tf.Variable): void {
  const parts = path.split('.');
  let node = params;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node = node[part] = {};
    else if (isLeaf(next)) throw new Error(`cannot add '${path}': '${part}' is a tensor`);
    else node = next;
  }
  const last = parts[parts.length - 1];
  if (node[last] !== undefined) throw new Error(`cannot add '${path}': already present`);
  node[last] = leaf;
}

/** Removes (and returns) the leaf at `path`, pruning subtrees left empty. */
export function removeLeaf(params: Params, path: string): tf.Variable | undefined {
  const parts = path.split('.');
  const chain: Params[] = [params];
  for (const part of parts.slice(0, -1)) {
    const next = chain[chain.length - 1][part];
    if (next === undefined || isLeaf(next)) return undefined;
    chain.push(next);
  }
  const owner = chain[chain.length - 1];
  const leaf = owner[parts[parts.length - 1]];
  if (!isLeaf(leaf)) return undefined;
  delete owner[parts[parts.length - 1]];
  for (let i = chain.length - 1; i > 0; i--) {
    if (Object.keys(chain[i]).length > 0) break;
    delete chain[i - 1][parts[i - 1]];
  }
  return leaf;
}

/** `prefix.rest`, or `rest` when the prefix is the root. */
export function joinPath(prefix: string, rest: string): string {
  return prefix === '' ? rest : `${prefix}.${rest}`;
}

/** A stop-gradient: the value of `x`, with a zero gradient (tfjs has no `detach`). */
export const stopGradient = tf.customGrad((x, _save) => ({
  value: tf.clone(x as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as (x: tf.Tensor) => tf.Tensor;

/** The tensor at a dotted `path` under `params`; throws naming `owner` and the path when missing. */
export function tensorAt(params: Params, path: string, owner: string): tf.Tensor {
  let node: unknown = params;
  for (const part of path.split('.')) {
    if (node === undefined || node === null || node instanceof tf.Tensor) break;
    node = (node as Params)[part];
  }
  if (node instanceof tf.Tensor) return node;
  throw new Error(`${owner}: expected a tensor at '${path}' in the layer's params (have: ${Object.keys(params).join(', ')})`);
}

/** Replaces the value of `variable` with `fn()` (computed in a tidy), in place. */
export function assignTo(variable: tf.Variable, fn: () => tf.Tensor): void {
  const value = tf.tidy(fn);
  variable.assign(value);
  value.dispose();
}
