/**
 * The training options of a continual run (per experience), as a config table shared with the
 * `%%continual` magic's JSON Schema (same {@link FieldSpec}s as the adapter configs).
 */
import { fields, validateConfig, type ConfigSchema, type FieldSpec } from '../adapters/config.js';

/** How each experience is trained. */
export interface ContinualTrainOptions {
  /** Optimisation steps per experience (van de Ven & Tolias count iterations: 2000 for Split MNIST). Overrides `epochs`. */
  iterations?: number;
  /** Epochs per experience, when `iterations` is not given. Default 1. */
  epochs?: number;
  /** Minibatch size (van de Ven: 128). Batches are drawn shuffled, dropping the last partial one. */
  batchSize: number;
  /** The optimizer. */
  optimizer: 'adam' | 'sgd';
  /** Learning rate. */
  lr: number;
  /** Adam's (β1, β2). Default [0.9, 0.999]. */
  betas?: [number, number];
  /**
   * A fresh optimizer (zeroed moments) for each experience. Default false: van de Ven & Tolias's
   * code keeps one Adam across tasks unless `--optimizer adam_reset` is given.
   */
  resetOptimizer?: boolean;
}

const betas: FieldSpec = {
  expected: 'two numbers in [0, 1)',
  check: (v) => Array.isArray(v) && v.length === 2 && v.every((b) => typeof b === 'number' && b >= 0 && b < 1),
  default: [0.9, 0.999],
  json: { type: 'array', items: { type: 'number', minimum: 0, exclusiveMaximum: 1 }, minItems: 2, maxItems: 2 },
};

/** The fields of {@link ContinualTrainOptions}. */
export const continualTrainSchema: ConfigSchema = {
  iterations: { ...fields.positiveInt(), optional: true },
  epochs: fields.positiveInt(1),
  batchSize: fields.positiveInt(),
  optimizer: fields.oneOf(['adam', 'sgd'], 'adam'),
  lr: { expected: 'a number > 0', check: (v) => typeof v === 'number' && v > 0 && Number.isFinite(v), json: { type: 'number', exclusiveMinimum: 0 } },
  betas,
  resetOptimizer: fields.boolean(false),
};

/** Checks the training options and fills their defaults (errors name the option as `train.<key>`). */
export function validateTrainOptions(raw: unknown): ContinualTrainOptions {
  return validateConfig<ContinualTrainOptions>('train', continualTrainSchema, raw);
}
