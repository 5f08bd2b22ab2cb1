/**
 * Backend selection for Node: TensorFlow's native library through `@tensorflow/tfjs-node` when it is
 * installed and its addon loads (an optional dependency; `scripts/setup-native.sh` builds the addon
 * against the TensorFlow C library of PyPI's tensorflow-cpu wheel), else the embedded WebAssembly backend, else plain
 * JavaScript (CPU). Also the one place that makes the runtime able to train:
 * {@link registerBackends} installs tfjs-core's gradients (its CommonJS build registers none),
 * HyperLab's gradients, and HyperLab's kernels for what the WASM backend lacks.
 *
 * ```ts
 * const info = await setBackend();      // 'auto'
 * info.name;                            // 'node' where tfjs-node's addon is built, else 'wasm'
 * info.reason;                          // 'auto: using node (native, …), TensorFlow 2.15.1 C library …'
 * info.fallbacks;                       // without tfjs-node: [{ name: 'node', error: 'not installed …' }]
 * ```
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerGradients, registerHyperLabGradients, type GradientsReport } from './gradients/register-gradients.js';
import { registerWasmKernels, type KernelInstallReport } from './kernels/wasm-kernels.js';
import { availableParallelism } from 'node:os';

/** The compute backends HyperLab selects between. `'node'` is tfjs-node (tfjs backend `'tensorflow'`). */
export type BackendName = 'node' | 'wasm' | 'cpu';

/** The backends in the order `'auto'` tries them. */
export const BACKEND_NAMES: readonly BackendName[] = ['node', 'wasm', 'cpu'];

/** The active backend and how it was chosen. */
export interface BackendInfo {
  /** The backend in use. */
  name: BackendName;
  /** What was asked for. */
  requested: BackendName | 'auto';
  /** Why this backend is in use, in words (for run records and `%backend`). */
  reason: string;
  /** WASM only: whether the SIMD build runs (tf flag `WASM_HAS_SIMD_SUPPORT`). */
  simd?: boolean;
  /** WASM only: whether the multithreaded build can run (tf flag `WASM_HAS_MULTITHREAD_SUPPORT`). */
  threads?: boolean;
  /** `@tensorflow/tfjs-core`'s version. */
  tfjsVersion: string;
  /** Backends tried before this one, and why each was not used. */
  fallbacks: Array<{ name: BackendName; error: string }>;
}

/** What {@link registerBackends} installed. */
export interface BackendSetupReport {
  /** HyperLab kernels for `wasm`, and those tfjs already had. */
  kernels: KernelInstallReport;
  /** Gradients installed. */
  gradients: GradientsReport;
}

const TFJS_NAME: Record<BackendName, string> = { node: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };
const TFJS_NODE = '@tensorflow/tfjs-node';

let setup: BackendSetupReport | undefined;
let current: BackendInfo | undefined;
let queue: Promise<unknown> = Promise.resolve();
/** Last initialisation error per tfjs backend name, captured by wrapping the registered factory. */
const initErrors = new Map<string, string>();
const wrappedFactories = new Set<string>();

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Makes the CPU and WASM backends (registered when this module is imported) ready for training:
 * installs HyperLab's WASM kernels and all gradients. Runs once; later calls return the first report.
 */
export function registerBackends(): BackendSetupReport {
  if (!setup) {
    const kernels = registerWasmKernels();
    const gradients = registerGradients();
    setup = { kernels, gradients };
  }
  captureInitErrors('wasm');
  captureInitErrors('cpu');
  return setup;
}

/** Wraps a registered backend factory so that the cause of a failed initialisation is kept. */
function captureInitErrors(tfName: string): void {
  const entry = tf.engine().registryFactory[tfName];
  if (entry == null || wrappedFactories.has(tfName)) return;
  wrappedFactories.add(tfName);
  const original = entry.factory;
  entry.factory = () => {
    initErrors.delete(tfName);
    try {
      const backend = original();
      if (backend instanceof Promise) {
        return backend.catch((error: unknown) => {
          initErrors.set(tfName, message(error));
          throw error;
        });
      }
      return backend;
    } catch (error) {
      initErrors.set(tfName, message(error));
      throw error;
    }
  };
}

let nativeModule = TFJS_NODE;

/**
 * Points the `node` backend's loader at another module name and returns the previous one. For
 * tests: a name that does not resolve exercises the "not installed" path on a machine that has
 * tfjs-node. Once tfjs-node has loaded, its `tensorflow` backend stays registered; `'auto'` and
 * `'node'` still refuse it while the loader names a module that does not load.
 */
export function setNativeModuleName(name: string): string {
  const previous = nativeModule;
  nativeModule = name;
  return previous;
}

/** Loads tfjs-node if installed (quietening TensorFlow's INFO lines); returns why not otherwise. */
function loadTfjsNode(): string | undefined {
  try {
    require.resolve(nativeModule);
  } catch {
    return `not installed (optional dependency ${nativeModule}; bash scripts/setup-native.sh builds it)`;
  }
  // TensorFlow logs "oneDNN custom operations are on" and its CPU-feature line at INFO when the
  // library loads; 2 keeps warnings and errors. A value the user set wins.
  process.env.TF_CPP_MIN_LOG_LEVEL ??= '2';
  try {
    require(nativeModule);
  } catch (error) {
    return `${nativeModule} is installed but failed to load (bash scripts/setup-native.sh builds its addon): ${firstLine(message(error))}`;
  }
  registerHyperLabGradients();
  if (tf.findBackendFactory(TFJS_NAME.node) == null) {
    return `${nativeModule} loaded but registered no '${TFJS_NAME.node}' backend (is it using another copy of @tensorflow/tfjs-core?)`;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0];
}

/** TensorFlow's version and intra-op thread count, when the active backend is tfjs-node's. */
function nativeDetails(): { version?: string; threads: number } {
  const binding = (tf.backend() as unknown as { binding?: { TF_Version?: string } }).binding;
  const env = Number(process.env.TF_NUM_INTRAOP_THREADS);
  // TensorFlow's default intra-op pool is one thread per schedulable core.
  const threads = Number.isInteger(env) && env > 0 ? env : availableParallelism();
  return { version: binding?.TF_Version, threads };
}

/**
 * Loads tfjs-node (as `setBackend('node')` would, without switching to it for good) and returns
 * why the native backend is unavailable, or undefined when it can be used. The test helper uses
 * this to run every core test on the native backend too where it is built.
 */
export function nativeBackendProblem(): string | undefined {
  const active = tf.getBackend() as string | null;
  const problem = loadTfjsNode();
  // tfjs-node makes its backend the active one when it loads; keep the caller's.
  if (active && tf.getBackend() !== active) void tf.setBackend(active);
  return problem;
}

/** Tries to make `name` the active backend; returns the error text if it cannot. */
async function activate(name: BackendName): Promise<string | undefined> {
  if (name === 'node') {
    const problem = loadTfjsNode();
    if (problem) return problem;
    captureInitErrors(TFJS_NAME.node);
  }
  const tfName = TFJS_NAME[name];
  if (tf.findBackendFactory(tfName) == null) return `no '${tfName}' backend is registered with TensorFlow.js`;
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
    if (ok) await tf.ready();
  } catch (error) {
    return message(error);
  }
  if (!ok || tf.getBackend() !== tfName) return `initialisation failed: ${initErrors.get(tfName) ?? 'no cause reported'}`;
  return undefined;
}

async function wasmFlags(): Promise<Pick<BackendInfo, 'simd' | 'threads'>> {
  const flag = async (name: string): Promise<boolean | undefined> => {
    try {
      return Boolean(await tf.env().getAsync(name));
    } catch {
      return undefined;
    }
  };
  return { simd: await flag('WASM_HAS_SIMD_SUPPORT'), threads: await flag('WASM_HAS_MULTITHREAD_SUPPORT') };
}

function wasmFlagsSync(): Pick<BackendInfo, 'simd' | 'threads'> {
  const flag = (name: string): boolean | undefined => {
    try {
      return Boolean(tf.env().get(name));
    } catch {
      return undefined; // an async flag not evaluated yet
    }
  };
  return { simd: flag('WASM_HAS_SIMD_SUPPORT'), threads: flag('WASM_HAS_MULTITHREAD_SUPPORT') };
}

function describe(name: BackendName, flags: Pick<BackendInfo, 'simd' | 'threads'>): string {
  if (name === 'node') {
    const { version, threads } = nativeDetails();
    return `TensorFlow ${version ?? '(version unknown)'} C library via @tensorflow/tfjs-node, ${threads} intra-op thread${threads === 1 ? '' : 's'}`;
  }
  if (name === 'cpu') return 'plain JavaScript (CPU backend)';
  const simd = flags.simd ? 'SIMD' : 'no SIMD';
  const threads = flags.threads ? 'multithreading available' : 'single-threaded';
  return `WebAssembly (${simd}, ${threads})`;
}

async function select(requested: BackendName | 'auto'): Promise<BackendInfo> {
  if (requested !== 'auto' && !BACKEND_NAMES.includes(requested)) {
    throw new Error(`Unknown backend '${String(requested)}': expected one of ${BACKEND_NAMES.join(', ')} or 'auto'`);
  }
  registerBackends();
  if (current && current.requested === requested && tf.getBackend() === TFJS_NAME[current.name]) return { ...current };

  const candidates = requested === 'auto' ? BACKEND_NAMES : [requested];
  const fallbacks: BackendInfo['fallbacks'] = [];
  for (const name of candidates) {
    const error = await activate(name);
    if (error !== undefined) {
      fallbacks.push({ name, error });
      continue;
    }
    const flags = name === 'wasm' ? await wasmFlags() : {};
    const skipped = fallbacks.map((f) => `${f.name} skipped: ${f.error}; `).join('');
    const reason =
      requested === 'auto'
        ? `auto: ${skipped}using ${name}${name === 'node' ? ' (native, the fastest backend present)' : ''}, ${describe(name, flags)}`
        : `requested explicitly: ${name}, ${describe(name, flags)}`;
    current = { name, requested, reason, ...flags, tfjsVersion: tf.version_core, fallbacks };
    return { ...current, fallbacks: [...fallbacks] };
  }
  if (requested !== 'auto') {
    throw new Error(`Backend '${requested}' is unavailable: ${fallbacks[0].error}`);
  }
  throw new Error(`No backend could be initialised: ${fallbacks.map((f) => `${f.name}: ${f.error}`).join('; ')}`);
}

/**
 * Selects the compute backend and waits until it is ready.
 *
 * `'auto'` (the default) tries `node` (tfjs-node, if installed), then `wasm`, then `cpu`, and
 * records why each earlier one was skipped in {@link BackendInfo.fallbacks}. An explicit name
 * that cannot be used rejects with an Error naming the backend and the cause. Calling again with
 * the same request while that backend is still active returns the same info without
 * re-initialising; calls are serialised.
 */
export function setBackend(name: BackendName | 'auto' = 'auto'): Promise<BackendInfo> {
  const run = queue.then(() => select(name));
  queue = run.catch(() => undefined);
  return run;
}

/**
 * The active backend. If it was chosen through {@link setBackend}, the info recorded then;
 * if someone switched with `tf.setBackend` directly, info for that backend with reason
 * `'set outside HyperLab'`. Throws if no backend is active yet, or if the active one is not a
 * backend HyperLab knows.
 */
export function backendInfo(): BackendInfo {
  const active = tf.getBackend() as string | undefined | null;
  if (!active) throw new Error('No TensorFlow.js backend is active yet: call setBackend() first');
  const name = BACKEND_NAMES.find((n) => TFJS_NAME[n] === active);
  if (!name) throw new Error(`The active TensorFlow.js backend '${active}' is not one HyperLab knows (${BACKEND_NAMES.join(', ')})`);
  if (current && current.name === name) return { ...current, fallbacks: [...current.fallbacks] };
  const flags = name === 'wasm' ? wasmFlagsSync() : {};
  return { name, requested: name, reason: 'set outside HyperLab', ...flags, tfjsVersion: tf.version_core, fallbacks: [] };
}
