/**
 * Frozen copies of parameters: the anchors of the quadratic penalties (EWC, SI, MAS) and the
 * previous model of LwF and generative replay.
 */
import * as tf from '@tensorflow/tfjs-core';
import { flatten, unflatten, type Params } from '../../params/params.js';

/** A non-trainable copy of each variable. */
export function snapshotVariables(variables: readonly tf.Variable[]): tf.Variable[] {
  return variables.map((v) => tf.variable(v, false));
}

/** A non-trainable copy of a whole Params tree (same paths), e.g. the previous model. */
export function snapshotParams(params: Params): Params {
  return unflatten([...flatten(params)].map(([path, v]) => [path, tf.variable(v, false)]));
}

/** Variables of the same shapes, filled with zeros (non-trainable). */
export function zerosLikeVariables(variables: readonly tf.Variable[]): tf.Variable[] {
  return variables.map((v) => tf.tidy(() => tf.variable(tf.zerosLike(v), false)));
}

/** Disposes a list of variables. */
export function disposeVariables(variables: readonly tf.Variable[] | undefined): void {
  for (const v of variables ?? []) v.dispose();
}
