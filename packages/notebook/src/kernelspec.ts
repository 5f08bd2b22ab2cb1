/**
 * Finding a kernelspec the way `jupyter_client` does: each Jupyter data folder, in
 * `jupyter_core.paths.jupyter_path()` order, + `kernels/NAME/kernel.json`; the first match wins
 * and names compare case-insensitively.
 *
 * The folders, in order:
 * 1. each entry of `$JUPYTER_PATH`;
 * 2. the user data folder: `$JUPYTER_DATA_DIR`, else `$XDG_DATA_HOME/jupyter` or `~/.local/share/jupyter`
 *    (`~/Library/Jupyter` on macOS);
 * 3. the environment folders: `$VIRTUAL_ENV/share/jupyter` and `sys.prefix/share/jupyter` of the
 *    Python found by `python.ts` (before the user folder when `$JUPYTER_PREFER_ENV_PATH` is true,
 *    as in jupyter_core);
 * 4. `/usr/local/share/jupyter`, `/usr/share/jupyter`.
 *
 * @see https://jupyter-client.readthedocs.io/en/latest/kernels.html#kernel-specs
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { jupyterPython, type PythonLookup } from './python.js';

/** A kernelspec as read from its kernel.json. */
export interface KernelSpec {
  /** The kernelspec name (its folder's name). */
  name: string;
  /** The kernelspec folder (`{resource_dir}`). */
  dir: string;
  /** The kernel.json file. */
  file: string;
  /** The command line, `{connection_file}` still in it (`{resource_dir}` and `{prefix}` filled in). */
  argv: string[];
  /** What a frontend shows. */
  displayName: string;
  /** The kernel's language, when given. */
  language?: string;
  /** `signal` (SIGINT, the default) or `message` (`interrupt_request` on the control channel). */
  interruptMode: 'signal' | 'message';
  /** Extra environment variables, `$VAR` / `${VAR}` expanded from this process's environment. */
  env: Record<string, string>;
}

/** A kernelspec could not be found or read: names the folders searched and the kernels found. */
export class KernelSpecError extends Error {
  override readonly name = 'KernelSpecError';
  constructor(
    message: string,
    /** The `kernels` folders searched, in order. */
    readonly searched: string[] = [],
    /** Kernel name → kernelspec folder, for every kernelspec found. */
    readonly found: Map<string, string> = new Map(),
  ) {
    super(message);
  }
}

const truthy = (v: string | undefined): boolean => v !== undefined && !['', '0', 'false', 'no', 'off'].includes(v.toLowerCase());

/** Jupyter's per-user data folder (jupyter_core's `jupyter_data_dir()`). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Jupyter');
  return path.join(env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'jupyter');
}

/** The Jupyter data folders, in search order (see the module documentation), without duplicates. */
export function jupyterDataDirs(env: NodeJS.ProcessEnv = process.env, python: PythonLookup = jupyterPython()): string[] {
  const explicit = (env.JUPYTER_PATH ?? '').split(path.delimiter).filter(Boolean).map((p) => p.replace(/[\\/]+$/, '') || p);
  const user = [userDataDir(env)];
  const environment: string[] = [];
  if (env.VIRTUAL_ENV) environment.push(path.join(env.VIRTUAL_ENV, 'share', 'jupyter'));
  if (python.found) environment.push(path.join(python.info.prefix, 'share', 'jupyter'));
  const system = ['/usr/local/share/jupyter', '/usr/share/jupyter'];
  const envFirst = truthy(env.JUPYTER_PREFER_ENV_PATH);
  const all = [...explicit, ...(envFirst ? [...environment, ...user] : [...user, ...environment]), ...system];
  return [...new Set(all.map((p) => path.resolve(p)))];
}

/** Every kernelspec in the `kernels` folders of `dataDirs`: lower-cased name → folder (first wins). */
export function listKernelSpecs(dataDirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const dataDir of dataDirs) {
    const kernels = path.join(dataDir, 'kernels');
    let names: string[];
    try {
      names = fs.readdirSync(kernels);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      const key = name.toLowerCase();
      if (!found.has(key) && fs.existsSync(path.join(kernels, name, 'kernel.json'))) found.set(key, path.join(kernels, name));
    }
  }
  return found;
}

/** `$VAR` and `${VAR}` replaced from `env` (unknown ones are kept), as jupyter_client's `Template.safe_substitute`. */
function expand(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, braced?: string, bare?: string) => env[braced ?? bare ?? ''] ?? whole);
}

/** Reads and checks a kernelspec folder's kernel.json. Throws {@link KernelSpecError}. */
export function readKernelSpec(dir: string, env: NodeJS.ProcessEnv = process.env, python: PythonLookup = jupyterPython()): KernelSpec {
  const file = path.join(dir, 'kernel.json');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new KernelSpecError(`kernelspec ${file}: cannot read: ${(error as Error).message}`);
  }
  const argv = json.argv;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
    throw new KernelSpecError(`kernelspec ${file}: "argv" must be a non-empty array of strings`);
  }
  const prefix = python.found ? python.info.prefix : '{prefix}';
  const kernelEnv: Record<string, string> = {};
  if (typeof json.env === 'object' && json.env !== null) {
    for (const [k, v] of Object.entries(json.env as Record<string, unknown>)) kernelEnv[k] = expand(String(v), env);
  }
  return {
    name: path.basename(dir),
    dir,
    file,
    argv: (argv as string[]).map((a) => a.replaceAll('{resource_dir}', dir).replaceAll('{prefix}', prefix)),
    displayName: typeof json.display_name === 'string' ? json.display_name : path.basename(dir),
    ...(typeof json.language === 'string' ? { language: json.language } : {}),
    interruptMode: json.interrupt_mode === 'message' ? 'message' : 'signal',
    env: kernelEnv,
  };
}

/**
 * Finds kernelspec `name` in the Jupyter data folders. Throws {@link KernelSpecError} naming the
 * folders searched and the kernels found when there is none.
 */
export function findKernelSpec(name: string, env: NodeJS.ProcessEnv = process.env, python: PythonLookup = jupyterPython()): KernelSpec {
  const dataDirs = jupyterDataDirs(env, python);
  const found = listKernelSpecs(dataDirs);
  const dir = found.get(name.toLowerCase());
  const searched = dataDirs.map((d) => path.join(d, 'kernels'));
  if (!dir) {
    const list = [...found].map(([n, d]) => `\n    ${n}  ${d}`).join('') || ' none';
    throw new KernelSpecError(
      `no kernelspec named "${name}"\n  searched:${searched.map((d) => `\n    ${d}`).join('')}\n  kernels found:${list}\n` +
        '  install HyperLab\'s with `node packages/kernel/dist/cli.js install`, or pick one with --kernel NAME',
      searched,
      found,
    );
  }
  return readKernelSpec(dir, env, python);
}
