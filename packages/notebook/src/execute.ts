/**
 * Running a notebook headless in a fresh kernel, as a Jupyter server with nbclient would: launch
 * the kernelspec's argv with a new connection file (cwd: the notebook's folder), then for each
 * non-empty code cell an `execute_request` (`silent: false`, `store_history: true`,
 * `allow_stdin: false`, `stop_on_error: true`), IOPub turned into outputs by `outputs.ts`, and the
 * reply's `execution_count` set on the cell. Markdown and raw cells are left alone.
 *
 * It stops at the first failing cell (like papermill), when a cell exceeds the timeout (the
 * kernel is interrupted first), or when the kernel process exits mid-run. The kernel is always
 * disposed.
 *
 * Kernel death is detected from the kernel process's exit, as nbclient's `is_alive()` polling
 * does; the heartbeat is not used, because `KernelClient`'s heartbeat socket cannot be used again
 * after one missed beat (so a single slow beat on a loaded machine would look like a death).
 *
 * Note: when the kernel dies, the `execute_request` that `KernelClient` is waiting on never gets
 * a reply, and its internal timeout timer stays pending (`KernelClient.request` cannot be
 * cancelled yet), which keeps the Node.js event loop alive. The CLI therefore ends its process
 * explicitly when its work is done.
 */
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { LaunchedKernel } from '@hyperlab/kernel';
import { cellSource, type CodeCell, type Notebook } from './nbformat.js';
import { KernelSpecError, findKernelSpec, type KernelSpec } from './kernelspec.js';
import { OutputCollector } from './outputs.js';
import { whichExecutable } from './python.js';

/** Options of {@link executeNotebook}. */
export interface ExecuteNotebookOptions {
  /** The kernelspec to use (default: found by `kernelName`). */
  spec?: KernelSpec;
  /** Kernelspec name when `spec` is not given; default `notebook.metadata.kernelspec.name`, else `hyperlab`. */
  kernelName?: string;
  /** The kernel's working folder (the notebook's folder). */
  cwd: string;
  /** Per-cell timeout in seconds; the kernel is interrupted, then the run stops. Default none. */
  timeoutSeconds?: number;
  /** Called before a cell runs: its index in `cells`, how many code cells are done, how many will run. */
  onCellStart?: (cellIndex: number, done: number, total: number) => void;
  /** Called after a cell ran (successfully or not). */
  onCellEnd?: (cellIndex: number, done: number, total: number) => void;
  /** Aborting stops the run (failure `cancelled`) and disposes the kernel: the CLI aborts on SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

/** Why a run stopped early. */
export type CellFailure =
  | { kind: 'error'; cellIndex: number; cellId?: string; ename: string; evalue: string; traceback: string }
  | { kind: 'timeout'; cellIndex: number; cellId?: string; seconds: number }
  | { kind: 'died'; cellIndex: number; cellId?: string; exitCode: number | null; signal: string | null; kernelLog: string }
  | { kind: 'cancelled'; cellIndex: number; cellId?: string };

/** What {@link executeNotebook} did. */
export interface ExecuteResult {
  /** The kernelspec used. */
  spec: KernelSpec;
  /** Code cells run (including a failing one). */
  executed: number;
  /** Undefined when every cell ran. */
  failure?: CellFailure;
}

/** The kernel could not be started (bad argv, the kernel did not answer). */
export class KernelStartError extends Error {
  override readonly name = 'KernelStartError';
}

/** No request waits longer than this (the largest delay `setTimeout` takes). */
const FOREVER_MS = 2 ** 31 - 1;
/** After an interrupt, how long the kernel gets to answer before it is killed. */
const INTERRUPT_GRACE_MS = 5_000;

/** A one-line description of a failure: `cell 3 (id abc) failed: Error: boom`. */
export function describeFailure(f: CellFailure): string {
  const cell = `cell ${f.cellIndex}${f.cellId ? ` (id ${f.cellId})` : ''}`;
  switch (f.kind) {
    case 'error':
      return `${cell} failed: ${f.ename}: ${f.evalue}`;
    case 'timeout':
      return `${cell} timed out after ${f.seconds} s (the kernel was interrupted)`;
    case 'died':
      return `kernel died while running ${cell} (${f.signal ? `signal ${f.signal}` : `exit code ${f.exitCode}`})`;
    case 'cancelled':
      return `cancelled while running ${cell}`;
  }
}

/** The kernelspec name a notebook asks for: its metadata's, else `hyperlab`. */
export function notebookKernelName(nb: Notebook): string {
  const ks = nb.metadata.kernelspec as { name?: unknown } | undefined;
  return typeof ks?.name === 'string' && ks.name ? ks.name : 'hyperlab';
}

async function start(spec: KernelSpec, cwd: string): Promise<LaunchedKernel> {
  const env = { ...process.env, ...spec.env };
  if (!whichExecutable(spec.argv[0], env.PATH)) {
    throw new KernelSpecError(`kernelspec ${spec.file}: argv[0] ${JSON.stringify(spec.argv[0])} is not an executable file (nor a command on PATH)`);
  }
  // Loaded here, not at the top: the kernel package (ZeroMQ, its protocol code) costs ~150 ms to
  // load, which every other command would pay.
  const { launchKernel } = await import('@hyperlab/kernel');
  try {
    return await launchKernel({ argv: spec.argv, env: spec.env, cwd });
  } catch (error) {
    throw new KernelStartError(`kernel "${spec.name}" (${spec.file}) did not start: ${(error as Error).message.trim()}`);
  }
}

type Outcome =
  | { type: 'reply'; content: Record<string, unknown> }
  | { type: 'died'; code: number | null; signal: string | null }
  | { type: 'timeout' }
  | { type: 'cancelled' };

/**
 * Runs every code cell of `nb` in a fresh kernel, in place: outputs and execution counts are
 * replaced (all code cells are reset first, as papermill does). Throws {@link KernelSpecError} or
 * {@link KernelStartError} before any cell runs; a failing cell, a timeout or a kernel death is
 * returned as `failure`.
 */
export async function executeNotebook(nb: Notebook, options: ExecuteNotebookOptions): Promise<ExecuteResult> {
  const spec = options.spec ?? findKernelSpec(options.kernelName ?? notebookKernelName(nb));
  const cells = nb.cells.map((cell, index) => ({ cell, index })).filter((c): c is { cell: CodeCell; index: number } => c.cell.cell_type === 'code');
  for (const { cell } of cells) {
    cell.outputs = [];
    cell.execution_count = null;
  }
  const toRun = cells.filter(({ cell }) => cellSource(cell).trim() !== '');
  const kernel = await start(spec, path.resolve(options.cwd));
  const died = new Promise<Outcome>((resolve) => {
    const proc = kernel.process;
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ type: 'died', code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ type: 'died', code, signal }));
  });
  const cancelled = new Promise<Outcome>((resolve) => {
    if (options.signal?.aborted) resolve({ type: 'cancelled' });
    else options.signal?.addEventListener('abort', () => resolve({ type: 'cancelled' }), { once: true });
  });
  const collector = new OutputCollector();
  let executed = 0;
  try {
    const info = await Promise.race([
      kernel.client.request('shell', 'kernel_info_request', {}, { timeoutMs: 30_000 }).then((r) => r.reply.content, () => undefined),
      died.then(() => undefined),
      cancelled.then(() => undefined),
    ]);
    if (typeof info?.language_info === 'object' && info.language_info !== null) nb.metadata.language_info = info.language_info;
    for (const { cell, index } of toRun) {
      options.onCellStart?.(index, executed, toRun.length);
      collector.startCell();
      const request = kernel.client
        .execute(cellSource(cell), { onIopub: (m) => collector.handle(cell, m), timeoutMs: FOREVER_MS, stop_on_error: true, store_history: true, silent: false })
        .then((r): Outcome => ({ type: 'reply', content: r.reply.content }));
      request.catch(() => undefined); // a dead kernel never replies; its rejection (if ever) is not news
      const racers: Array<Promise<Outcome>> = [request, died, cancelled];
      let timer: NodeJS.Timeout | undefined;
      if (options.timeoutSeconds !== undefined) racers.push(new Promise((resolve) => (timer = setTimeout(() => resolve({ type: 'timeout' }), options.timeoutSeconds! * 1000))));
      let outcome = await Promise.race(racers).finally(() => clearTimeout(timer));
      executed++;
      const id = cell.id !== undefined ? { cellId: cell.id } : {};
      if (outcome.type === 'timeout') {
        await interrupt(kernel, spec);
        let grace: NodeJS.Timeout | undefined;
        outcome = await Promise.race([request, died, cancelled, new Promise<Outcome>((resolve) => (grace = setTimeout(() => resolve({ type: 'timeout' }), INTERRUPT_GRACE_MS)))]).finally(() => clearTimeout(grace));
        if (outcome.type === 'reply' && typeof outcome.content.execution_count === 'number') cell.execution_count = outcome.content.execution_count;
        options.onCellEnd?.(index, executed, toRun.length);
        return { spec, executed, failure: { kind: 'timeout', cellIndex: index, ...id, seconds: options.timeoutSeconds! } };
      }
      if (outcome.type === 'cancelled') {
        return { spec, executed, failure: { kind: 'cancelled', cellIndex: index, ...id } };
      }
      if (outcome.type === 'died') {
        options.onCellEnd?.(index, executed, toRun.length);
        return { spec, executed, failure: { kind: 'died', cellIndex: index, ...id, exitCode: outcome.code, signal: outcome.signal, kernelLog: kernel.stderr() } };
      }
      const content = outcome.content;
      if (typeof content.execution_count === 'number') cell.execution_count = content.execution_count;
      options.onCellEnd?.(index, executed, toRun.length);
      if (content.status !== 'ok') {
        const traceback = Array.isArray(content.traceback) ? content.traceback.map((l) => stripVTControlCharacters(String(l))).join('\n') : '';
        const ename = String(content.ename ?? (content.status === 'aborted' ? 'Aborted' : 'Error'));
        const evalue = String(content.evalue ?? `execute_reply status ${String(content.status)}`);
        return { spec, executed, failure: { kind: 'error', cellIndex: index, ...id, ename, evalue, traceback } };
      }
    }
    return { spec, executed };
  } finally {
    await kernel.dispose();
  }
}

/** Interrupts the running cell as the kernelspec says: `interrupt_request` on control, or SIGINT. */
async function interrupt(kernel: LaunchedKernel, spec: KernelSpec): Promise<void> {
  if (spec.interruptMode === 'message') {
    await kernel.client.request('control', 'interrupt_request', {}, { timeoutMs: INTERRUPT_GRACE_MS }).catch(() => undefined);
  } else {
    kernel.process.kill('SIGINT');
  }
}
