/**
 * Backend selection and the runtime setup that lets HyperLab train on every backend (tfjs-core's
 * gradients under CommonJS, HyperLab's WASM kernels and gradients).
 */
export { BACKEND_NAMES, backendInfo, registerBackends, setBackend, setNativeModuleName } from './backend.js';
export type { BackendInfo, BackendName, BackendSetupReport } from './backend.js';
export type { GradientsReport } from './gradients/register-gradients.js';
export type { GradientInstallReport } from './gradients/tfjs-gradients.js';
export type { KernelInstallReport } from './kernels/wasm-kernels.js';
