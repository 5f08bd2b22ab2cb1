/**
 * Hypernetworks: task embedding → (chunked) MLP → a target module's Params (von Oswald et al.
 * 2020), hyperfan initialisation (Chang et al. 2020), magnitude-invariant parametrisation (Ortiz
 * et al. 2024), the continual-learning output regulariser and entropy task inference, and
 * hypernetwork-generated LoRA adapters (after HyperFormer, Mahabadi et al. 2021).
 */
export { targetShapes, shapesOf, numOutputs, splitToParams, flattenToVector, flattenTensors, type TargetShape } from './target-shapes.js';
export { type HypernetArgs, type HypernetCount, type Hypernetwork } from './hypernet.js';
export { hmlp } from './hmlp.js';
export { chunkedHmlp, type ChunkedHmlpArgs } from './chunked-hmlp.js';
export { cosSinEncoding, MIP_ENCODING_MULTIPLIER } from './mip.js';
export { outputScale, hyperfanOutputLayer, secondMoment, type OutputScale } from './hyperfan.js';
export { snapshotTargets, outputRegularizer, disposeTargets, type RegularizerTargets } from './output-regularizer.js';
export { entropyTaskInference, headEntropy, type HeadRange, type InferredOutput } from './task-inference.js';
export { hyperLora, materializeAdapter, type HyperLora, type HyperLoraArgs, type HyperLoraLayer, type LoraFactors } from './hyper-lora.js';
