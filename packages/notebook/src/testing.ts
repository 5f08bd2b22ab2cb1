/**
 * Helpers for this package's tests (not part of the public API): temporary notebooks, a real
 * kernelspec installed into a temporary prefix by the kernel package's own CLI, running the
 * `hyperlab` CLI as a child process, and checking that a file was not touched.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { joinMultilineStrings, type Cell, type Notebook } from './nbformat.js';

/** The `hyperlab` CLI under test. */
export const CLI = path.join(__dirname, 'cli.js');
/** The kernel package's CLI (`install --prefix DIR` writes a kernelspec). */
export const KERNEL_CLI = path.resolve(__dirname, '..', '..', 'kernel', 'dist', 'cli.js');

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the test process exits. */
export function tmpDir(label = 'hyperlab-nb-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), label));
  created.push(dir);
  return dir;
}

/** The repository's `.venv/bin/python` (made by scripts/setup-venv.sh), found by walking up. */
export function repoPython(): string {
  for (let dir = __dirname; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const python = path.join(dir, '.venv', 'bin', 'python');
    if (fs.existsSync(python)) return python;
  }
  throw new Error('no .venv/bin/python above this package: run scripts/setup-venv.sh (it installs nbformat)');
}

let kernelPrefix: string | undefined;

/** A prefix with HyperLab's kernelspec installed (once per test process) by `hyperlab-kernel install --prefix`. */
export function kernelspecPrefix(): string {
  if (kernelPrefix) return kernelPrefix;
  const prefix = tmpDir('hyperlab-prefix-');
  const r = spawnSync(process.execPath, [KERNEL_CLI, 'install', '--prefix', prefix], { encoding: 'utf8' });
  assert.equal(r.status, 0, `kernelspec install failed: ${r.stderr}`);
  kernelPrefix = prefix;
  return prefix;
}

/**
 * The environment for a CLI child: the temporary kernelspec first on JUPYTER_PATH, an empty user
 * data dir, the repo's Python, and a private TMPDIR (kernel connection files land there).
 */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const history = tmpDir('hyperlab-history-');
  return {
    ...process.env,
    TMPDIR: tmpDir('hyperlab-tmp-'),
    JUPYTER_PATH: path.join(kernelspecPrefix(), 'share', 'jupyter'),
    JUPYTER_DATA_DIR: tmpDir('hyperlab-jupyter-data-'),
    HYPERLAB_PYTHON: repoPython(),
    HYPERLAB_HISTORY_FILE: path.join(history, 'history.jsonl'),
    ...extra,
  };
}

/** Runs `hyperlab ARGS` to completion (a hang fails after `timeoutMs`). */
export function hyperlab(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): SpawnSyncReturns<string> & { ms: number } {
  const start = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: options.env ?? cliEnv(), timeout: options.timeoutMs ?? 60_000 });
  assert.equal(r.error, undefined, `hyperlab ${args.join(' ')}: ${r.error?.message}`);
  return Object.assign(r, { ms: Date.now() - start });
}

let cellCounter = 0;

/** A code cell. */
export function code(source: string, tags: string[] = []): Cell {
  return { cell_type: 'code', id: `code-${++cellCounter}`, metadata: tags.length ? { tags } : {}, source, execution_count: null, outputs: [] };
}

/** A markdown cell. */
export function markdown(source: string): Cell {
  return { cell_type: 'markdown', id: `md-${++cellCounter}`, metadata: {}, source };
}

/** A 4.5 notebook for the hyperlab kernel. */
export function notebook(cells: Cell[], kernel = 'hyperlab'): Notebook {
  return { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: kernel, display_name: 'TypeScript (HyperLab)', language: 'typescript' } }, cells };
}

/** Writes a notebook (or raw text) into a fresh folder; returns the file. */
export function writeTemp(content: Notebook | string, name = 'nb.ipynb'): string {
  const file = path.join(tmpDir(), name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 1));
  return file;
}

/** What a file looks like now: SHA-256, mtime, and its folder's listing. */
export interface Snapshot {
  file: string;
  sha256: string;
  mtimeMs: number;
  listing: string[];
}

/** Takes a {@link Snapshot}, after moving the mtime into the past so any write would show. */
export function snapshot(file: string): Snapshot {
  const past = new Date(Date.now() - 60_000);
  fs.utimesSync(file, past, past);
  return { file, sha256: createHash('sha256').update(fs.readFileSync(file)).digest('hex'), mtimeMs: fs.statSync(file).mtimeMs, listing: fs.readdirSync(path.dirname(file)).sort() };
}

/** Asserts the file and its folder are as snapshotted. */
export function assertUntouched(s: Snapshot): void {
  assert.equal(createHash('sha256').update(fs.readFileSync(s.file)).digest('hex'), s.sha256, `${s.file}: content changed`);
  assert.equal(fs.statSync(s.file).mtimeMs, s.mtimeMs, `${s.file}: mtime changed`);
  assert.deepEqual(fs.readdirSync(path.dirname(s.file)).sort(), s.listing, `${path.dirname(s.file)}: files appeared or went`);
}

/** Pids of live processes whose command line mentions `text` (Linux /proc), e.g. a kernel's connection-file folder. */
export function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Reads a notebook file as JSON (no validation). */
export function readJson(file: string): Notebook {
  return joinMultilineStrings(JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook);
}

/**
 * TypeScript for a cell that displays a deterministic run record named `name` whose metrics
 * depend on the notebook variable `lr`.
 */
export function recordCell(name: string, id: string): string {
  return [
    "import { createRunRecord, RUN_RECORD_MIME } from '@hyperlab/core/runs';",
    `const record_${id} = createRunRecord({ name: ${JSON.stringify(name)}, id: ${JSON.stringify(id)}, createdAt: '2026-01-01T00:00:00.000Z',`,
    "  config: { lr }, seed: 7, backend: { name: 'cpu', reason: 'test' },",
    '  metrics: { accuracy: 0.5 + lr, loss: 1 - lr }, curves: { loss: { step: [0, 1], value: [1, 1 - lr] } }, timings: { totalMs: 1 } });',
    `display.bundle({ [RUN_RECORD_MIME]: record_${id}, 'text/plain': ${JSON.stringify(`run ${name}`)} });`,
  ].join('\n');
}
