/**
 * Finding the Python that Jupyter runs on, and asking it (once per process) where its `nbformat`
 * package and its `sys.prefix` are. HyperLab needs both: the official nbformat JSON schemas ship
 * only inside the Python `nbformat` package, and `sys.prefix/share/jupyter` is one of the folders
 * Jupyter looks for kernelspecs in.
 *
 * Candidates, first that exists wins:
 * 1. `$HYPERLAB_PYTHON` (a path or a command on PATH; `none` means "use no Python");
 * 2. `$VIRTUAL_ENV/bin/python`;
 * 3. `.venv/bin/python` in the nearest folder, walking up from this file, that has one
 *    (the repository's venv made by `scripts/setup-venv.sh`);
 * 4. `python3` on PATH.
 *
 * The chosen interpreter is asked with `importlib.util.find_spec` (nbformat is located, not
 * imported, so asking takes one interpreter start-up, ~30 ms).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What the chosen Python said about itself. */
export interface PythonInfo {
  /** The interpreter as found (path or command). */
  python: string;
  /** Where it was found: `HYPERLAB_PYTHON`, `VIRTUAL_ENV`, `repository .venv` or `PATH`. */
  source: string;
  /** `sys.executable`. */
  executable: string;
  /** `sys.prefix`. */
  prefix: string;
  /** The folder of the `nbformat` package, or null when that Python has no nbformat. */
  nbformatDir: string | null;
  /** nbformat's version, when installed. */
  nbformatVersion: string | null;
}

/** The outcome of the search: the Python's answer, or why there is none. */
export type PythonLookup = { found: true; info: PythonInfo } | { found: false; reason: string };

const QUERY = [
  'import importlib.util, json, os, sys',
  "s = importlib.util.find_spec('nbformat')",
  'v = None',
  'if s is not None:',
  '    try:',
  '        from importlib.metadata import version',
  "        v = version('nbformat')",
  '    except Exception:',
  '        pass',
  "print(json.dumps({'executable': sys.executable, 'prefix': sys.prefix, 'nbformat': os.path.dirname(s.origin) if s is not None and s.origin else None, 'version': v}))",
].join('\n');

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** `command` resolved on `$PATH` (or as a path when it contains a slash); undefined when absent. */
export function whichExecutable(command: string, envPath = process.env.PATH ?? ''): string | undefined {
  if (command.includes('/') || command.includes(path.sep)) return isExecutable(command) ? path.resolve(command) : undefined;
  for (const dir of envPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The nearest `.venv/bin/python` walking up from `start`. */
function repositoryVenvPython(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '.venv', 'bin', 'python');
    if (isExecutable(candidate)) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Asks `python` about itself; throws with the interpreter's message when that fails. */
export function askPython(python: string, source: string): PythonInfo {
  const out = execFileSync(python, ['-c', QUERY], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  const answer = JSON.parse(out.trim().split('\n').pop() ?? '') as { executable: string; prefix: string; nbformat: string | null; version: string | null };
  return { python, source, executable: answer.executable, prefix: answer.prefix, nbformatDir: answer.nbformat, nbformatVersion: answer.version };
}

/** Looks for a Python as the module documentation says, without caching. */
export function findPython(env: NodeJS.ProcessEnv = process.env, start = __dirname): PythonLookup {
  const explicit = env.HYPERLAB_PYTHON;
  let chosen: { python: string; source: string } | undefined;
  if (explicit !== undefined && explicit !== '') {
    if (explicit === 'none') return { found: false, reason: 'HYPERLAB_PYTHON=none' };
    const resolved = whichExecutable(explicit, env.PATH);
    if (!resolved) return { found: false, reason: `HYPERLAB_PYTHON=${explicit} is not an executable file` };
    chosen = { python: resolved, source: 'HYPERLAB_PYTHON' };
  } else if (env.VIRTUAL_ENV && isExecutable(path.join(env.VIRTUAL_ENV, 'bin', 'python'))) {
    chosen = { python: path.join(env.VIRTUAL_ENV, 'bin', 'python'), source: 'VIRTUAL_ENV' };
  } else {
    const venv = repositoryVenvPython(start);
    if (venv) chosen = { python: venv, source: 'repository .venv' };
    else {
      const python3 = whichExecutable('python3', env.PATH);
      if (python3) chosen = { python: python3, source: 'PATH' };
    }
  }
  if (!chosen) return { found: false, reason: 'no Python found ($HYPERLAB_PYTHON, $VIRTUAL_ENV/bin/python, .venv/bin/python, python3 on PATH)' };
  try {
    return { found: true, info: askPython(chosen.python, chosen.source) };
  } catch (error) {
    const e = error as Error & { stderr?: string };
    const detail = (e.stderr ?? '').trim().split('\n').pop() || e.message;
    return { found: false, reason: `${chosen.python} (from ${chosen.source}) did not answer: ${detail}` };
  }
}

let cached: PythonLookup | undefined;

/** {@link findPython} for this process's environment, asked once and cached. */
export function jupyterPython(): PythonLookup {
  cached ??= findPython();
  return cached;
}
