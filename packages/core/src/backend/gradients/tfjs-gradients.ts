/**
 * Installs TensorFlow.js's own gradient functions under CommonJS.
 *
 * Why this file exists: `@tensorflow/tfjs-core`'s Node entry point (`dist/tf-core.node.js`, the
 * one `require` loads) registers **no gradients at all** — `tf.grad(x => tf.sum(x))` fails with
 * "gradient function not found for Sum". The gradients ship only as ES-module files
 * (`dist/gradients/*_grad.js`, listed by `dist/register_all_gradients.js`), and only the union
 * package `@tensorflow/tfjs` (which `@tensorflow/tfjs-node` pulls in) bundles them for Node.
 * HyperLab depends on tfjs-core alone, so without this file nothing could train.
 *
 * What it does: it reads `register_all_gradients.js`, loads every listed gradient module with a
 * tiny ESM→function loader that binds each `import` to the one CommonJS tfjs-core instance
 * (kernel names, ops and utilities all come from `@tensorflow/tfjs-core`'s public namespace; the
 * few internal ops the gradients call — `conv2DBackpropFilter`, `maxPoolGrad`, … — are loaded the
 * same way from `dist/ops/`), and registers each config **only if no gradient is registered for
 * that kernel yet** (so `@tensorflow/tfjs-node`'s bundled gradients, or any a future tfjs-core
 * registers itself, are kept). The loaded code is exactly the published 4.22 gradient code; the
 * only rewrite is that the three chained tensor methods the gradients use (`x.reshape(…)`,
 * `x.slice(…)`, `x.split(…)`; the CommonJS build has no chained ops) become calls of the
 * functional ops.
 *
 * @packageDocumentation
 */
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';

/** What {@link registerTfjsGradients} did. */
export interface GradientInstallReport {
  /** Kernels whose tfjs gradient this call registered. */
  registered: string[];
  /** Kernels that already had a gradient (registered earlier, or by another copy of tfjs). */
  present: string[];
  /** Gradient modules that could not be loaded, with the reason (empty on tfjs-core 4.22). */
  failed: Array<{ module: string; error: string }>;
}

type ModuleExports = Record<string, unknown>;

/** The chained tensor methods the gradient code calls, mapped to the functional ops. */
const CHAINED_METHODS = ['reshape', 'slice', 'split'] as const;
const CHAINED_CALL = new RegExp(
  String.raw`(^|[^\w$.])([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\.(${CHAINED_METHODS.join('|')})\(`,
  'gm',
);
const IMPORT_STATEMENT = /^import\s+(?:\*\s+as\s+([\w$]+)|\{([^}]*)\})\s+from\s+'([^']+)';[ \t]*$/gm;
const EXPORT_DECLARATION = /^export\s+(const|let|var|function|class)\s+([\w$]+)/gm;

/** `x.reshape(s)` → `tf.reshape(x, s)` when `x` is a tensor, else the object's own method (arrays). */
function chainedCall(target: unknown, method: (typeof CHAINED_METHODS)[number], ...args: unknown[]): unknown {
  if (target instanceof tf.Tensor) return (tf[method] as (...a: unknown[]) => unknown)(target, ...args);
  return (target as Record<string, (...a: unknown[]) => unknown>)[method](...args);
}

/** `convertToTensor` as the internal ops use it (gradients always pass tensors). */
function convertToTensor(x: unknown, argName: string, functionName: string, parseAsDtype?: tf.DataType): tf.Tensor {
  if (x instanceof tf.Tensor) return x;
  if (x == null) throw new Error(`Argument '${argName}' passed to '${functionName}' must be a Tensor, but got ${String(x)}`);
  return tf.tensor(x as tf.TensorLike, undefined, parseAsDtype);
}

/** Namespace objects for `import * as name from '…'`. */
function namespaceFor(specifier: string): object | undefined {
  const base = path.posix.basename(specifier);
  switch (base) {
    case 'util':
      return tf.util;
    case 'broadcast_util':
      return tf.broadcast_util;
    case 'slice_util':
      return tf.slice_util;
    case 'conv_util':
    case 'axis_util':
      return tf.backend_util;
    default:
      return undefined;
  }
}

class GradientModuleLoader {
  private readonly cache = new Map<string, ModuleExports>();
  private readonly namespaceTf = tf as unknown as Record<string, unknown>;

  constructor(private readonly distDir: string) {}

  /** Loads an ES module file of tfjs-core's `dist/` folder as a function of its imports. */
  load(file: string): ModuleExports {
    const cached = this.cache.get(file);
    if (cached) return cached;
    const source = fs.readFileSync(file, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
    const names: string[] = [];
    const values: unknown[] = [];
    const bind = (name: string, value: unknown): void => {
      if (value === undefined) throw new Error(`cannot bind '${name}' imported by ${path.relative(this.distDir, file)}`);
      names.push(name);
      values.push(value);
    };
    let body = source.replace(IMPORT_STATEMENT, (_all, namespace: string | undefined, named: string | undefined, specifier: string) => {
      if (namespace) {
        bind(namespace, namespaceFor(specifier) ?? this.loadRelative(file, specifier));
      } else {
        for (const part of (named ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
          const [imported, local = imported] = part.split(/\s+as\s+/);
          bind(local, this.resolveNamed(file, specifier, imported));
        }
      }
      return '';
    });
    const exported: string[] = [];
    body = body.replace(EXPORT_DECLARATION, (_all, kind: string, name: string) => {
      exported.push(name);
      return `${kind} ${name}`;
    });
    if (/^\s*(import|export)\b/m.test(body)) {
      throw new Error(`unsupported import/export form in ${path.relative(this.distDir, file)}`);
    }
    body = body.replace(CHAINED_CALL, (_all, before: string, target: string, method: string) => `${before}__hlChained(${target}, '${method}', `);
    bind('__hlChained', chainedCall);
    const wrapper = `(function (${names.join(', ')}) {\n'use strict';\n${body}\nreturn { ${exported.join(', ')} };\n})`;
    const factory = vm.runInThisContext(wrapper, { filename: file }) as (...args: unknown[]) => ModuleExports;
    const exports = factory(...values);
    this.cache.set(file, exports);
    return exports;
  }

  private loadRelative(fromFile: string, specifier: string): ModuleExports {
    return this.load(path.resolve(path.dirname(fromFile), `${specifier}.js`));
  }

  private resolveNamed(fromFile: string, specifier: string, name: string): unknown {
    if (name === 'ENGINE') return tf.engine();
    if (name === 'convertToTensor') return convertToTensor;
    // Helpers that live beside the gradients (`./min_max_grad_util`, `./Abs_grad`).
    const fromGradients = path.basename(path.dirname(fromFile)) === 'gradients';
    if (fromGradients && specifier.startsWith('./')) return this.loadRelative(fromFile, specifier)[name];
    const namespace = namespaceFor(specifier) as Record<string, unknown> | undefined;
    if (namespace && name in namespace) return namespace[name];
    if (name in this.namespaceTf) return this.namespaceTf[name];
    const backendUtil = tf.backend_util as unknown as Record<string, unknown>;
    if (name in backendUtil) return backendUtil[name];
    // Internal ops the public namespace does not export (conv2DBackpropFilter, maxPoolGrad, …).
    if (specifier.startsWith('../ops/') || specifier.startsWith('./')) return this.loadRelative(fromFile, specifier)[name];
    return undefined;
  }
}

let lastReport: GradientInstallReport | undefined;

/** The folder of the tfjs-core copy this module uses. */
function tfjsCoreDist(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-core/package.json')), 'dist');
}

/**
 * Registers tfjs-core's gradient for every kernel that has none yet. Idempotent: a second call
 * finds them all present. Never throws for one bad module; failures are listed in the report.
 */
export function registerTfjsGradients(): GradientInstallReport {
  const report: GradientInstallReport = { registered: [], present: [], failed: [] };
  let dist: string;
  let list: string;
  try {
    dist = tfjsCoreDist();
    list = fs.readFileSync(path.join(dist, 'register_all_gradients.js'), 'utf8');
  } catch (error) {
    report.failed.push({ module: 'register_all_gradients', error: error instanceof Error ? error.message : String(error) });
    lastReport = report;
    return report;
  }
  const loader = new GradientModuleLoader(dist);
  const seen = new Set<string>();
  for (const match of list.matchAll(/^import\s+\{\s*([\w$]+)\s*\}\s+from\s+'\.\/gradients\/([\w$]+)';/gm)) {
    const [, configName, moduleName] = match;
    let config: tf.GradConfig | undefined;
    try {
      config = loader.load(path.join(dist, 'gradients', `${moduleName}.js`))[configName] as tf.GradConfig | undefined;
      if (!config || typeof config.gradFunc !== 'function') throw new Error(`${configName} is not a gradient config`);
    } catch (error) {
      report.failed.push({ module: moduleName, error: error instanceof Error ? error.message : String(error) });
      continue;
    }
    if (seen.has(config.kernelName)) continue;
    seen.add(config.kernelName);
    if (tf.getGradient(config.kernelName) != null) {
      report.present.push(config.kernelName);
    } else {
      tf.registerGradient(config);
      report.registered.push(config.kernelName);
    }
  }
  lastReport = report;
  return report;
}

/** The report of the last {@link registerTfjsGradients} call, if any. */
export function tfjsGradientReport(): GradientInstallReport | undefined {
  return lastReport;
}
