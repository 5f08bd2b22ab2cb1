/**
 * Continual learning with Avalanche's vocabulary and van de Ven & Tolias's (2019) protocol:
 * benchmarks (one per file), scenarios as output layouts, strategies as hooks around the one
 * training loop (one per file under `strategies/`), metrics from the accuracy matrix.
 */
export * from './benchmark.js';
export { splitMnist, splitClassOrder, type SplitMnistOptions } from './split-mnist.js';
export { permutedMnist, mnistPermutations, type PermutedMnistOptions } from './permuted-mnist.js';
export { rotatedMnist, rotationMap, type RotatedMnistOptions } from './rotated-mnist.js';
export type { MappedMnistOptions } from './mapped-mnist.js';
export { PixelMapDataset, indexMapFingerprint } from './pixel-map-dataset.js';
export * from './scenario.js';
export { continualMetrics, type ContinualMetrics } from './metrics.js';
export * from './strategy-config.js';
export { continualTrainSchema, validateTrainOptions, type ContinualTrainOptions } from './train-options.js';
export type { Strategy, StrategyContext, StrategyFactory } from './strategy.js';
export { runContinual, type ContinualProgressEvent, type ContinualResult, type RunContinualOptions } from './run.js';
export { vae, vaeLoss, sampleVae, type VaeArgs, type VaeModule } from './strategies/vae.js';
export { projectGradient } from './strategies/agem.js';
export { hnetFor } from './strategies/hnet.js';
