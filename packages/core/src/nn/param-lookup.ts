/**
 * Reading a module's own entries out of its Params, with errors that name the module and the
 * entries it found. Leaves may be any tensor, not only `tf.Variable`: a hypernetwork's output or an
 * adapter's effective weight is a plain tensor standing in for a parameter.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../params/params.js';

function describe(params: Params): string {
  return Object.keys(params).join(', ') || 'nothing';
}

/** The tensor stored under `name`; throws, naming `owner`, when it is missing or is a subtree. */
export function paramLeaf(params: Params, name: string, owner: string): tf.Tensor {
  const value: unknown = params?.[name];
  if (value instanceof tf.Tensor) return value;
  throw new Error(`${owner}: expected a tensor at '${name}' in its params, found ${value === undefined ? 'none' : 'a subtree'} (have: ${describe(params ?? {})})`);
}

/**
 * The subtree stored under `name` (a child's params). A missing entry gives `{}` (parameter-free
 * children such as activations have empty subtrees, which saving drops; a child that needs params
 * then fails naming the tensor it misses). Throws, naming `owner`, when the entry is a tensor.
 */
export function paramChild(params: Params, name: string, owner: string): Params {
  const value: unknown = params?.[name];
  if (value === undefined) return {};
  if (value !== null && !(value instanceof tf.Tensor) && typeof value === 'object') return value as Params;
  throw new Error(`${owner}: expected the params of child '${name}', found a tensor (have: ${describe(params ?? {})})`);
}

/** Throws a clear error unless the last dimension of `x` is `size`. */
export function checkLastDim(x: tf.Tensor, size: number, owner: string, what = 'features'): void {
  if (x.rank < 1 || x.shape[x.rank - 1] !== size) {
    throw new Error(`${owner}: expected input of shape [..., ${size}] (${what}), got [${x.shape.join(', ')}]`);
  }
}
