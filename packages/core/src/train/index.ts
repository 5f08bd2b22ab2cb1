/** Training: optimizers, schedules, clipping, losses, metrics and the training loop. */
export * from './optimizers.js';
export * from './schedules.js';
export * from './clip.js';
export * from './losses.js';
export * from './metrics.js';
export * from './loop.js';
