/**
 * `import` for notebook cells. Specifiers resolve from the notebook's folder first, then from the
 * kernel's own packages; CommonJS packages load through `require`, ESM-only packages (including
 * those whose `exports` offer only an `import` condition) through a real dynamic `import()`.
 * Local `.ts` files load through a TypeScript require hook.
 */
import { readFileSync, existsSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { exports as resolveExports, legacy as resolveLegacy } from 'resolve.exports';

const KERNEL_ROOT = path.resolve(__dirname, '..', '..');

type Namespace = Record<string, unknown>;

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier.split('/')[0]);
}

/** The namespace object a CommonJS module presents to `import * as ns`. */
function commonJsNamespace(exported: unknown): Namespace {
  if (exported !== null && (typeof exported === 'object' || typeof exported === 'function')) {
    if ((exported as Namespace).__esModule) return exported as Namespace;
    const ns: Namespace = Object.create(null);
    for (const key of Object.keys(exported as object)) ns[key] = (exported as Namespace)[key];
    ns.default = exported;
    return ns;
  }
  return { default: exported };
}

/** TypeScript's `esModuleInterop` default: the ES default export, or the CommonJS module itself. */
export function importDefault(ns: unknown): unknown {
  if (ns === null || typeof ns !== 'object') return ns;
  const record = ns as Namespace;
  if (record.__esModule) return record.default;
  if ('default' in record) {
    const inner = record.default as Namespace | undefined;
    if (inner !== null && typeof inner === 'object' && inner.__esModule && 'default' in inner) return inner.default;
    return inner;
  }
  return ns;
}

function packageName(specifier: string): { name: string; subpath: string } {
  const parts = specifier.split('/');
  const count = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, count).join('/');
  const rest = parts.slice(count).join('/');
  return { name, subpath: rest ? `./${rest}` : '.' };
}

/** Resolves a bare specifier the way Node's ESM loader would, walking node_modules upward. */
function resolveEsm(specifier: string, fromDir: string): string | undefined {
  const { name, subpath } = packageName(specifier);
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const root = path.join(dir, 'node_modules', name);
    const manifest = path.join(root, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
      const target =
        (pkg.exports ? resolveExports(pkg, subpath, { conditions: ['node', 'import'] })?.[0] : undefined) ??
        (subpath === '.' ? resolveLegacy(pkg, { fields: ['module', 'main'] }) ?? 'index.js' : subpath);
      if (typeof target === 'string') return path.join(root, target);
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

let typeScriptHookInstalled = false;

/** Lets `require` load `.ts` files by transpiling them (TypeScript is loaded only when needed). */
function installTypeScriptHook(): void {
  if (typeScriptHookInstalled) return;
  typeScriptHookInstalled = true;
  const extensions = (require as NodeJS.Require).extensions as Record<string, (module: NodeJS.Module, filename: string) => void>;
  extensions['.ts'] = (module, filename) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const ts = require('typescript') as typeof import('typescript');
    const output = ts.transpileModule(readFileSync(filename, 'utf8'), {
      fileName: filename,
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
    });
    (module as unknown as { _compile(code: string, filename: string): void })._compile(output.outputText, filename);
  };
}

/** Imports a module for a cell; `cwd` is the notebook's folder. */
export async function importModule(specifier: string, cwd: string = process.cwd()): Promise<Namespace> {
  if (isBuiltin(specifier)) return commonJsNamespace(require(specifier));
  installTypeScriptHook();
  const bases = specifier.startsWith('.') || path.isAbsolute(specifier) ? [cwd] : [cwd, KERNEL_ROOT];
  const failures: string[] = [];
  for (const base of bases) {
    const requireFrom = createRequire(path.join(base, '__hyperlab_cell__.js'));
    let resolved: string | undefined;
    try {
      resolved = requireFrom.resolve(specifier);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_PACKAGE_PATH_NOT_EXPORTED' || code === 'MODULE_NOT_FOUND') {
        resolved = specifier.startsWith('.') || path.isAbsolute(specifier) ? undefined : resolveEsm(specifier, base);
      }
      if (!resolved) {
        failures.push(base);
        continue;
      }
    }
    if (resolved.endsWith('.mjs')) return (await import(pathToFileURL(resolved).href)) as Namespace;
    try {
      return commonJsNamespace(requireFrom(resolved));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM') return (await import(pathToFileURL(resolved).href)) as Namespace;
      throw error;
    }
  }
  const error = new Error(`Cannot find module '${specifier}' (looked from ${failures.join(' and ')})`);
  (error as NodeJS.ErrnoException).code = 'MODULE_NOT_FOUND';
  throw error;
}
