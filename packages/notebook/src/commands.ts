/**
 * The `hyperlab` commands, each taking parsed arguments and returning an exit code:
 * 0 success, 1 the notebook failed (a cell error, a timeout, a kernel death, run records that
 * drifted or are missing, an output that could not be written), 2 bad input (unreadable file,
 * not JSON, not nbformat 4, unknown kernelspec, bad parameter). The input notebook is only ever
 * written by `run` without `-o`, and only after every cell succeeded. `worker` takes no notebook:
 * it runs sweep trials from a Redis queue until stopped.
 */
import * as path from 'node:path';
import { KernelStartError, describeFailure, executeNotebook, notebookKernelName, type CellFailure } from './execute.js';
import { KernelSpecError, findKernelSpec } from './kernelspec.js';
import { runRecords, writeNotebookAtomic, NotebookReadError, type Notebook } from './nbformat.js';
import { ParameterError, injectParameters, parseParameter } from './parameters.js';
import { Progress } from './progress.js';
import { readNotebook } from './read.js';
import { writeReport } from './report.js';
import { formatRuns, runSummaries, type RunsFormat } from './runs-table.js';
import { formatVerification, invalidRecords, verifyRecords } from './verify.js';

/** Where a command writes: stdout, stderr (and whether stderr is a terminal, for the progress bar). */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  errIsTTY?: boolean;
}

/** An error that ends a command with a message and an exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

/** Reads a notebook; a read or validation problem becomes a {@link CommandError} (exit 2). */
function read(file: string): Notebook {
  try {
    return readNotebook(file);
  } catch (error) {
    if (error instanceof NotebookReadError) throw new CommandError(error.message, 2);
    throw error;
  }
}

/** Runs `nb` (in place) with a progress bar; kernelspec and start problems become CommandErrors. */
async function execute(nb: Notebook, file: string, kernel: string | undefined, timeoutSeconds: number | undefined, io: CliIO, command: string) {
  let spec;
  try {
    spec = findKernelSpec(kernel ?? notebookKernelName(nb));
  } catch (error) {
    if (error instanceof KernelSpecError) {
      const from = kernel ? ' (--kernel)' : nb.metadata.kernelspec ? " (the notebook's metadata.kernelspec.name)" : ' (the default)';
      throw new CommandError(error.message.replace(/^(no kernelspec named "[^"]*")/, `$1${from}`), 2);
    }
    throw error;
  }
  if (kernel) nb.metadata.kernelspec = { name: spec.name, display_name: spec.displayName, ...(spec.language ? { language: spec.language } : {}) };
  io.err(`hyperlab ${command}: ${file} in kernel "${spec.name}" (${spec.displayName})\n`);
  const progress = new Progress({ write: io.err, isTTY: io.errIsTTY });
  let total = 0;
  // Ctrl-C or a TERM stops the run and disposes the kernel instead of leaving it running.
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await executeNotebook(nb, {
      spec,
      cwd: path.dirname(path.resolve(file)),
      timeoutSeconds,
      signal: abort.signal,
      onCellStart: (index, done, all) => {
        total = all;
        progress.cell(index, done, all);
      },
    });
    progress.finish(result.executed - (result.failure ? 1 : 0), total);
    return result;
  } catch (error) {
    if (error instanceof KernelSpecError) throw new CommandError(error.message, 2);
    if (error instanceof KernelStartError) throw new CommandError(error.message, 1);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Exit code of a run stopped by SIGINT/SIGTERM (128 + SIGINT, as shells report it). */
const CANCELLED_EXIT = 130;

/** The failure as printed: a headline, then the traceback or the kernel's last log lines. */
function failureText(f: CellFailure): string {
  const lines = [describeFailure(f)];
  if (f.kind === 'error' && f.traceback) lines.push(f.traceback);
  if (f.kind === 'died') {
    const log = f.kernelLog.trim().split('\n').slice(-10).join('\n');
    if (log) lines.push(`kernel log (last lines):\n${log}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Arguments of {@link runCommand}. */
export interface RunArgs {
  notebook: string;
  parameters: string[];
  output?: string;
  kernel?: string;
  timeoutSeconds?: number;
}

/** `hyperlab run`: execute, save outputs to `output` (default: in place). */
export async function runCommand(args: RunArgs, io: CliIO): Promise<number> {
  const parameters = new Map<string, unknown>();
  for (const p of args.parameters) {
    try {
      const [key, value] = parseParameter(p);
      parameters.set(key, value);
    } catch (error) {
      if (error instanceof ParameterError) throw new CommandError(error.message, 2);
      throw error;
    }
  }
  const nb = read(args.notebook);
  if (parameters.size > 0) {
    const at = injectParameters(nb, parameters);
    const where = at.parametersCell < 0 ? 'at the top (no cell is tagged "parameters")' : `after cell ${at.parametersCell} (tagged "parameters")`;
    io.err(`hyperlab run: ${at.replaced ? 'replaced the injected-parameters cell' : 'injected parameters'} as cell ${at.index}, ${where}\n`);
  }
  const inPlace = args.output === undefined || path.resolve(args.output) === path.resolve(args.notebook);
  const output = args.output ?? args.notebook;
  const result = await execute(nb, args.notebook, args.kernel, args.timeoutSeconds, io, 'run');
  const save = (): void => {
    try {
      writeNotebookAtomic(output, nb);
    } catch (error) {
      throw new CommandError(`cannot write ${output}: ${(error as Error).message}`, 1);
    }
  };
  if (result.failure?.kind === 'cancelled') {
    io.err(`hyperlab run: ${failureText(result.failure)}hyperlab run: nothing was written\n`);
    return CANCELLED_EXIT;
  }
  if (result.failure) {
    io.err(`hyperlab run: ${failureText(result.failure)}`);
    if (!inPlace) {
      save();
      io.err(`hyperlab run: the partial notebook (outputs up to the failure) is in ${output}\n`);
    } else io.err(`hyperlab run: ${args.notebook} was not modified\n`);
    return 1;
  }
  save();
  io.err(`hyperlab run: ${result.executed} cell${result.executed === 1 ? '' : 's'} run; wrote ${output}\n`);
  return 0;
}

/** Arguments of {@link verifyCommand}. */
export interface VerifyArgs {
  notebook: string;
  rtol: number;
  atol: number;
  kernel?: string;
  timeoutSeconds?: number;
}

/** `hyperlab verify`: re-run in memory, compare run records; the file is never written. */
export async function verifyCommand(args: VerifyArgs, io: CliIO): Promise<number> {
  const nb = read(args.notebook);
  const stored = runRecords(nb);
  const invalid = invalidRecords(stored);
  if (invalid.length) throw new CommandError(`${args.notebook}: stored run records are not valid run records:\n${invalid.map((l) => `  ${l}`).join('\n')}`, 2);
  if (stored.length === 0) {
    io.err(`hyperlab verify: ${args.notebook} has no stored run records, so there is nothing to verify (run it with \`hyperlab run\` first)\n`);
    return 1;
  }
  const fresh = structuredClone(nb);
  const result = await execute(fresh, args.notebook, args.kernel, args.timeoutSeconds, io, 'verify');
  if (result.failure) {
    io.err(`hyperlab verify: ${failureText(result.failure)}hyperlab verify: NOT verified: the re-run stopped at cell ${result.failure.cellIndex}\n`);
    return result.failure.kind === 'cancelled' ? CANCELLED_EXIT : 1;
  }
  const verification = verifyRecords(stored, runRecords(fresh), { rtol: args.rtol, atol: args.atol });
  io.out(formatVerification(verification));
  return verification.ok ? 0 : 1;
}

/** Arguments of {@link reportCommand}. */
export interface ReportArgs {
  notebook: string;
  output?: string;
  title?: string;
}

/** `hyperlab report`: one self-contained HTML file. */
export async function reportCommand(args: ReportArgs, io: CliIO): Promise<number> {
  const nb = read(args.notebook);
  const output = args.output ?? args.notebook.replace(/\.ipynb$/i, '') + '.html';
  if (path.resolve(output) === path.resolve(args.notebook)) throw new CommandError(`-o ${output}: that is the notebook itself`, 2);
  try {
    await writeReport(nb, output, { notebookPath: args.notebook, ...(args.title ? { title: args.title } : {}) });
  } catch (error) {
    throw new CommandError(`cannot write ${output}: ${(error as Error).message}`, 1);
  }
  io.err(`hyperlab report: wrote ${output} (${runRecords(nb).length} run record${runRecords(nb).length === 1 ? '' : 's'})\n`);
  return 0;
}

/** `hyperlab runs`: the run records stored in a notebook. */
export function runsCommand(args: { notebook: string; format: RunsFormat }, io: CliIO): number {
  io.out(formatRuns(runSummaries(runRecords(read(args.notebook))), args.format));
  return 0;
}

/** Arguments of {@link workerCommand}. */
export interface WorkerArgs {
  redis: string;
  queue?: string;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** The trials' backend (`node`, `wasm`, `cpu`, `auto`); default `$HYPERLAB_BACKEND`, else auto. */
  backend?: string;
}

/** The part of `@hyperlab/magics`'s `sweep/redis-worker.js` this command uses. */
interface RedisWorkerModule {
  startRedisWorker(options: WorkerArgs & { url: string; log: (line: string) => void }): Promise<{ name: string; stop(): Promise<void>; closed: Promise<void> }>;
}

/**
 * `hyperlab worker`: takes sweep trials from the BullMQ queue in Redis and runs them (each in a
 * child process of this one) until SIGINT/SIGTERM, which puts the running trials back in the
 * queue (a second signal exits at once; the trial then comes back through BullMQ's stalled-job
 * check). Exit code 0 once stopped, 2 for a bad URL or option, 130 after a second signal. The
 * trial runner is `@hyperlab/magics` (which depends on this package, so it is loaded at run
 * time, not imported: the other commands never load it or TensorFlow.js).
 */
export async function workerCommand(args: WorkerArgs, io: CliIO): Promise<number> {
  let mod: RedisWorkerModule;
  try {
    mod = require('@hyperlab/magics/dist/sweep/redis-worker.js') as RedisWorkerModule;
  } catch (error) {
    throw new CommandError(`cannot load @hyperlab/magics (it runs the trials; install it beside @hyperlab/notebook, or build the checkout): ${(error as Error).message.split('\n')[0]}`, 2);
  }
  const log = (line: string) => io.err(`hyperlab worker: ${line}\n`);
  let worker: Awaited<ReturnType<RedisWorkerModule['startRedisWorker']>>;
  try {
    worker = await mod.startRedisWorker({ ...args, url: args.redis, log });
  } catch (error) {
    throw new CommandError((error as Error).message, 2);
  }
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      log(`${signal} again: exiting now (running trials come back through the stalled-job check)`);
      process.exit(CANCELLED_EXIT);
    }
    log(`${signal}: stopping; running trials go back to the queue (${signal} again to exit at once)`);
    void worker.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await worker.closed;
    await worker.stop();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  log('stopped');
  return 0;
}
