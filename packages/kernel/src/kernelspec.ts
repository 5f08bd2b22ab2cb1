/**
 * Installing the kernelspec, the folder Jupyter reads to list and start this kernel.
 * @see https://jupyter-client.readthedocs.io/en/latest/kernels.html#kernel-specs
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CURVE_ENCRYPTION, curveSupported } from './protocol/curve.js';

/** The default kernelspec name. */
export const KERNEL_NAME = 'hyperlab';
/** What JupyterLab's launcher shows. */
export const DISPLAY_NAME = 'TypeScript (HyperLab)';

/** Where to install: like `jupyter kernelspec install`'s --user, --sys-prefix and --prefix. */
export type InstallTarget = { kind: 'user' } | { kind: 'sys-prefix'; python?: string } | { kind: 'prefix'; prefix: string };

/**
 * The kernel.json content. `metadata.supported_encryption: ["curve"]` (as ipykernel 7.4 writes it)
 * tells jupyter_client 8.10 that the kernel accepts CurveZMQ keys, so
 * `transport_encryption = 'auto'` provisions them.
 * @param cliPath - the kernel's CLI, run as `node cliPath run {connection_file}`
 * @param curve - declare CurveZMQ support; by default when this zeromq build has CURVE
 */
export function kernelJson(cliPath = path.join(__dirname, 'cli.js'), curve = curveSupported()): Record<string, unknown> {
  return {
    argv: [process.execPath, cliPath, 'run', '{connection_file}'],
    display_name: DISPLAY_NAME,
    language: 'typescript',
    interrupt_mode: 'message',
    env: {},
    metadata: { debugger: false, ...(curve && { supported_encryption: [CURVE_ENCRYPTION] }) },
  };
}

/** Jupyter's per-user data directory, honouring JUPYTER_DATA_DIR. */
export function userDataDir(): string {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Jupyter');
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? os.homedir(), 'jupyter');
  return path.join(process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share'), 'jupyter');
}

/** The sys.prefix of the Python that runs Jupyter: $VIRTUAL_ENV, else asked of `python3`. */
export function pythonPrefix(python?: string): string {
  if (!python && process.env.VIRTUAL_ENV) return process.env.VIRTUAL_ENV;
  const interpreter = python ?? 'python3';
  try {
    return execFileSync(interpreter, ['-c', 'import sys; print(sys.prefix)'], { encoding: 'utf8' }).trim();
  } catch (error) {
    throw new Error(`--sys-prefix: could not ask ${interpreter} for sys.prefix (${(error as Error).message}); activate the venv or use --prefix DIR`);
  }
}

/** The kernels folder a target means. */
export function kernelsDir(target: InstallTarget): string {
  switch (target.kind) {
    case 'user':
      return path.join(userDataDir(), 'kernels');
    case 'sys-prefix':
      return path.join(pythonPrefix(target.python), 'share', 'jupyter', 'kernels');
    case 'prefix':
      return path.join(path.resolve(target.prefix), 'share', 'jupyter', 'kernels');
  }
}

/** Writes kernel.json and the logos; returns the kernelspec folder. Written atomically. */
export function installKernelspec(target: InstallTarget, name = KERNEL_NAME): string {
  if (!/^[a-z0-9._-]+$/i.test(name)) throw new Error(`--name "${name}": a kernelspec name may use letters, digits, '.', '_' and '-' only`);
  const dir = path.join(kernelsDir(target), name);
  mkdirSync(dir, { recursive: true });
  const logos = path.resolve(__dirname, '..', 'logos');
  for (const logo of ['logo-32x32.png', 'logo-64x64.png', 'logo-svg.svg']) copyFileSync(path.join(logos, logo), path.join(dir, logo));
  const temporary = path.join(dir, `.kernel.json.${process.pid}`);
  writeFileSync(temporary, `${JSON.stringify(kernelJson(), null, 2)}\n`);
  renameSync(temporary, path.join(dir, 'kernel.json'));
  return dir;
}
