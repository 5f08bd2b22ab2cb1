/**
 * @hyperlab/core — the compute core: randomness, params, pure modules, backends, data,
 * training and run records. Knows nothing of Jupyter.
 */
export * from './random.js';
export * from './params/params.js';
export * from './nn/module.js';
