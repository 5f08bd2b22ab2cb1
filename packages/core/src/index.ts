/**
 * @hyperlab/core — the compute core: randomness, params, pure modules, backends, data,
 * training and run records. Knows nothing of Jupyter.
 *
 * Call `await setBackend()` (or `setBackend('wasm' | 'cpu' | 'node')`) once before computing: it
 * registers the backends, HyperLab's extra WASM kernels and the gradients tfjs-core's Node bundle
 * leaves out.
 */
export * from './random.js';
export * from './params/params.js';
export * from './nn/module.js';

// Backends, kernels and gradients.
export { BACKEND_NAMES, backendInfo, nativeBackendProblem, registerBackends, setBackend, type BackendInfo, type BackendName, type BackendSetupReport } from './backend/backend.js';

// Modules.
export * from './nn/init.js';
export * from './nn/linear.js';
export * from './nn/activations.js';
export * from './nn/mlp.js';
export * from './nn/conv2d.js';
export * from './nn/layer-norm.js';
export * from './nn/embedding.js';
export * from './nn/attention.js';
export * from './nn/transformer.js';
export * from './nn/sequential.js';
export * from './nn/gradcheck.js';

// Data.
export { TensorDataset, batches, numBatches, subset as subsetDataset, split as splitDataset, type Batch, type BatchIterator, type BatchOptions, type Dataset, type TensorDatasetInit } from './data/dataset.js';
export { fingerprintDataset, type FingerprintSource } from './data/fingerprint.js';
export * from './data/mnist.js';
export * from './data/synthetic.js';

// Serialisation.
export * from './io/safetensors.js';

// Training and run records.
export * from './train/index.js';
export * from './runs/index.js';

// Adapters (parameter-efficient fine-tuning).
export * from './adapters/index.js';

// Continual learning (benchmarks, scenarios, strategies, metrics).
export * from './continual/index.js';

// Hypernetworks (generated Params, MIP, continual regulariser, generated adapters).
export * from './hyper/index.js';
