/** Training: optimizers, schedules, clipping, losses, metrics, the training loop and its checkpoints. */
export * from './optimizers.js';
export * from './schedules.js';
export * from './clip.js';
export * from './losses.js';
export * from './metrics.js';
export * from './loop.js';
export * from './checkpoint.js';
