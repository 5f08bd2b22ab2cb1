/**
 * Training checkpoints: everything {@link train} needs to continue a run exactly where it stopped
 * — the trainable parameters, the optimizer's update counts and slot tensors (Adam's moments), the
 * epochs and steps done, and the positions of the generators that order the data and draw dropout
 * masks — as one safetensors file (`io/safetensors.ts`):
 *
 * - `params/<path>`: each trainable leaf, under its dotted path (`0.lora_A.default`);
 * - `optimizer/<path>/<slot>`: that leaf's slots under PyTorch's names (`exp_avg`, `exp_avg_sq`,
 *   `momentum_buffer`), for the leaves the optimizer has updated;
 * - metadata (strings): `format` (`hyperlab.training-checkpoint`), `version`, `epoch`, `step`,
 *   `optimizer` (its kind), `iterations`, `slotSteps` (JSON: path → update count), `rngs` (JSON:
 *   name → {@link RngState}), and the caller's own keys.
 *
 * Frozen leaves are not saved: they never change in training, so rebuilding the model from the
 * same config and seed gives them back. Hyper-parameters are not restored either: the optimizer
 * that loads a checkpoint keeps its own (Population Based Training continues a better trial's
 * state with a perturbed learning rate).
 */
import * as tf from '@tensorflow/tfjs-core';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { flatten, type Params } from '../params/params.js';
import type { Rng, RngState } from '../random.js';
import type { Optimizer, OptimizerStateInput } from './optimizers.js';

/** The `format` metadata value of a training checkpoint. */
export const TRAINING_CHECKPOINT_FORMAT = 'hyperlab.training-checkpoint';

/** The version written (and the only one read) by this module. */
export const TRAINING_CHECKPOINT_VERSION = 1;

/** Metadata keys this module writes; the caller's own keys may not use them. */
const RESERVED = ['format', 'version', 'epoch', 'step', 'optimizer', 'iterations', 'slotSteps', 'rngs'];

/** What {@link encodeTrainingCheckpoint} saves. */
export interface TrainingCheckpointParts {
  /** The params being trained; every trainable leaf is saved under its dotted path. */
  params: Params;
  /** The optimizer training them (its state is read, not changed). */
  optimizer: Optimizer;
  /** Epochs completed ({@link TrainResult.epochs}). */
  epoch: number;
  /** Steps taken ({@link TrainResult.steps}). */
  step: number;
  /** Generators whose positions to keep, by name (the data order's, dropout's). */
  rngs?: Record<string, Rng>;
  /** The caller's own string metadata (not one of the keys this module writes). */
  metadata?: Record<string, string>;
}

/** What {@link restoreTrainingCheckpoint} read back besides the tensors it restored. */
export interface RestoredTrainingCheckpoint {
  /** Epochs completed when the checkpoint was made. */
  epoch: number;
  /** Steps taken when the checkpoint was made. */
  step: number;
  /** The saved generators' positions, by name ({@link Rng.fromState} continues each). */
  rngs: Record<string, RngState>;
  /** The caller's metadata as saved. */
  metadata: Record<string, string>;
}

/** A checkpoint that cannot be read, or does not fit the params or optimizer it is restored into. */
export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CheckpointError';
  }
}

/** The trainable leaves of `params` by dotted path, and the reverse lookup. */
function trainableLeaves(params: Params): { byPath: Map<string, tf.Variable>; pathOf: Map<tf.Variable, string> } {
  const byPath = new Map([...flatten(params)].filter(([, leaf]) => leaf.trainable));
  return { byPath, pathOf: new Map([...byPath].map(([path, leaf]) => [leaf, path])) };
}

function checkCount(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`training checkpoint: ${name} must be an integer ≥ 0, got ${value}`);
}

/**
 * Encodes a training checkpoint as safetensors bytes (layout in the module comment). Throws when a
 * slot of the optimizer belongs to a variable that is not a trainable leaf of `params`, or when the
 * caller's metadata uses a reserved key.
 */
export function encodeTrainingCheckpoint(parts: TrainingCheckpointParts): Uint8Array {
  checkCount('epoch', parts.epoch);
  checkCount('step', parts.step);
  const { byPath, pathOf } = trainableLeaves(parts.params);
  const tensors = new Map<string, tf.Tensor>();
  for (const [path, leaf] of byPath) tensors.set(`params/${path}`, leaf);
  const state = parts.optimizer.state();
  const slotSteps: Record<string, number> = {};
  for (const slot of state.slots) {
    const path = pathOf.get(slot.variable);
    if (path === undefined) throw new Error(`training checkpoint: the optimizer holds state for ${slot.variable.name}, which is not a trainable leaf of the params`);
    slotSteps[path] = slot.step;
    for (const [name, tensor] of Object.entries(slot.tensors)) tensors.set(`optimizer/${path}/${name}`, tensor);
  }
  const own = parts.metadata ?? {};
  const clash = Object.keys(own).filter((key) => RESERVED.includes(key));
  if (clash.length) throw new Error(`training checkpoint: metadata keys ${clash.join(', ')} are reserved`);
  const rngs = Object.fromEntries(Object.entries(parts.rngs ?? {}).map(([name, rng]) => [name, rng.state()]));
  return encodeSafetensors(tensors, {
    ...own,
    format: TRAINING_CHECKPOINT_FORMAT,
    version: String(TRAINING_CHECKPOINT_VERSION),
    epoch: String(parts.epoch),
    step: String(parts.step),
    optimizer: state.kind,
    iterations: String(state.iterations),
    // Sorted, so the same state always gives the same bytes (a loaded optimizer lists its slots in file order).
    slotSteps: JSON.stringify(Object.fromEntries(Object.entries(slotSteps).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))),
    rngs: JSON.stringify(rngs),
  });
}

function metaCount(metadata: Record<string, string>, key: string): number {
  const value = Number(metadata[key]);
  if (metadata[key] === undefined || !Number.isInteger(value) || value < 0) throw new CheckpointError(`training checkpoint: metadata "${key}" is ${JSON.stringify(metadata[key])}, not an integer ≥ 0`);
  return value;
}

function metaJson<T>(metadata: Record<string, string>, key: string): T {
  try {
    return JSON.parse(metadata[key] ?? '') as T;
  } catch {
    throw new CheckpointError(`training checkpoint: metadata "${key}" is not JSON`);
  }
}

const shapeText = (shape: readonly number[]): string => `[${shape.join(', ')}]`;

/**
 * Restores a checkpoint made by {@link encodeTrainingCheckpoint} into `params` (each trainable leaf
 * assigned in place) and `optimizer` ({@link Optimizer.load}: update counts and slots; its
 * hyper-parameters stay its own), and returns the epoch, step and generator positions to continue
 * from (pass them to {@link train} as `start`, and rebuild the generators with
 * {@link Rng.fromState}). Everything is checked before anything changes: a foreign or newer
 * format, a trainable leaf the checkpoint lacks, one it has that the params do not train, a shape
 * that differs (naming each key and both shapes), or an optimizer of another kind throws a
 * {@link CheckpointError} and leaves params and optimizer as they were.
 */
export function restoreTrainingCheckpoint(bytes: Uint8Array, target: { params: Params; optimizer: Optimizer }): RestoredTrainingCheckpoint {
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    throw new CheckpointError(`training checkpoint: ${(error as Error).message}`);
  }
  const { tensors, metadata } = decoded;
  try {
    if (metadata.format !== TRAINING_CHECKPOINT_FORMAT) throw new CheckpointError(`training checkpoint: format is ${JSON.stringify(metadata.format)}, expected "${TRAINING_CHECKPOINT_FORMAT}"`);
    if (metadata.version !== String(TRAINING_CHECKPOINT_VERSION)) throw new CheckpointError(`training checkpoint: version ${metadata.version} is not one this HyperLab reads (${TRAINING_CHECKPOINT_VERSION})`);
    const epoch = metaCount(metadata, 'epoch');
    const step = metaCount(metadata, 'step');
    const iterations = metaCount(metadata, 'iterations');
    const slotSteps = metaJson<Record<string, number>>(metadata, 'slotSteps');
    const rngs = metaJson<Record<string, RngState>>(metadata, 'rngs');
    const kind = metadata.optimizer;
    if (kind !== target.optimizer.kind) throw new CheckpointError(`training checkpoint: it holds the state of a ${kind} optimizer, but this run trains with ${target.optimizer.kind}`);

    const { byPath } = trainableLeaves(target.params);
    const saved = new Map<string, tf.Tensor>();
    const slots = new Map<string, Record<string, tf.Tensor>>();
    for (const [name, tensor] of tensors) {
      if (name.startsWith('params/')) saved.set(name.slice('params/'.length), tensor);
      else if (name.startsWith('optimizer/')) {
        const rest = name.slice('optimizer/'.length);
        const cut = rest.lastIndexOf('/');
        if (cut <= 0) throw new CheckpointError(`training checkpoint: tensor "${name}" is not optimizer/<path>/<slot>`);
        const path = rest.slice(0, cut);
        const entry = slots.get(path) ?? {};
        entry[rest.slice(cut + 1)] = tensor;
        slots.set(path, entry);
      } else throw new CheckpointError(`training checkpoint: unexpected tensor "${name}"`);
    }
    const problems: string[] = [];
    const missing = [...byPath.keys()].filter((path) => !saved.has(path));
    const unexpected = [...saved.keys()].filter((path) => !byPath.has(path));
    if (missing.length) problems.push(`trained here but not in the checkpoint: ${missing.join(', ')}`);
    if (unexpected.length) problems.push(`in the checkpoint but not trained here: ${unexpected.join(', ')}`);
    for (const [path, leaf] of byPath) {
      const source = saved.get(path);
      if (source && (!tf.util.arraysEqual(source.shape, leaf.shape) || source.dtype !== leaf.dtype)) {
        problems.push(`${path} is ${source.dtype} ${shapeText(source.shape)} in the checkpoint but ${leaf.dtype} ${shapeText(leaf.shape)} here`);
      }
    }
    const orphans = [...slots.keys()].filter((path) => !byPath.has(path) || !saved.has(path));
    if (orphans.length) problems.push(`optimizer state for leaves not trained here: ${orphans.join(', ')}`);
    if (problems.length) throw new CheckpointError(`the checkpoint does not fit this model: ${problems.join('; ')}`);

    const state: OptimizerStateInput = {
      kind: target.optimizer.kind,
      iterations,
      slots: [...slots].map(([path, slotTensors]) => ({ variable: byPath.get(path)!, step: slotSteps[path] ?? NaN, tensors: slotTensors })),
    };
    try {
      target.optimizer.load(state);
    } catch (error) {
      throw new CheckpointError(`training checkpoint: ${(error as Error).message}`);
    }
    for (const [path, leaf] of byPath) leaf.assign(saved.get(path)!);
    const own = Object.fromEntries(Object.entries(metadata).filter(([key]) => !RESERVED.includes(key)));
    return { epoch, step, rngs, metadata: own };
  } finally {
    for (const tensor of tensors.values()) tensor.dispose();
  }
}
